#!/usr/bin/env node
/**
 * Benchmark of report-jobs against a minimal Fastify + BullMQ baseline, in one run on the
 * same machine and the same Redis. `npm run bench` (several minutes) or
 * `npm run bench -- --quick` (under a minute, to check the harness). See bench/README.md.
 *
 * Exits 0 whenever the measurement ran, whatever the figures; non-zero only when
 * something broke. Every process it starts is stopped on the way out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureStreams, measureSystems } from './lib/measure.mjs';
import { parseArgs } from './lib/options.mjs';
import { stopAll } from './lib/processes.mjs';
import { provideRedis } from './lib/redis.mjs';
import { buildRows, renderMarkdown, writeResults } from './lib/report.mjs';
import { snapshotBuild, SYSTEMS, traceOursToSink } from './lib/systems.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const RESULTS = join(BENCH, 'results');
const LOGS = join(RESULTS, 'logs');

function packageVersion(name) {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** The commit, flagged when the app sources differ from it (the figures are then of the working tree). */
function gitCommit() {
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'apps', 'libs') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in apps/ or libs/' : ''}`;
  } catch {
    return 'unknown';
  }
}

async function describeMachine(redis, builtAt) {
  return {
    date: new Date().toISOString(),
    commit: gitCommit(),
    // dist/ is what runs; it may be older or newer than the sources.
    built: builtAt.toISOString(),
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    // Anything else running skews the figures; a high load average here explains outliers.
    loadAverageAtStart: os.loadavg()[0],
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    redis: await redis.version(),
    bullmq: packageVersion('bullmq'),
    autocannon: packageVersion('autocannon'),
  };
}

/**
 * The apps are spawned with the harness's own node, so an older node on PATH would
 * silently measure another runtime: refuse what package.json's engines refuses.
 */
function assertNodeVersion() {
  const range = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines?.node ?? '';
  const minimum = />=\s*(\d+)(?:\.(\d+))?/.exec(range);
  if (!minimum) return;
  const [major, minor] = process.versions.node.split('.').map(Number);
  const [wantMajor, wantMinor = 0] = minimum.slice(1).map((part) => Number(part ?? 0));
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    throw new Error(`node ${process.version} (${process.execPath}) does not satisfy engines "${range}": put a newer node first on PATH`);
  }
}

async function main() {
  const settings = parseArgs(process.argv.slice(2));
  assertNodeVersion();
  const builtAt = snapshotBuild();
  mkdirSync(LOGS, { recursive: true });
  console.error(`[bench] ${settings.mode} mode; app logs in ${LOGS}`);

  // One Redis server per system: their phases alternate, each on a server holding only its own jobs.
  const redisBySystem = {
    ours: await provideRedis(LOGS, { label: 'ours' }),
    baseline: settings.sseOnly ? undefined : await provideRedis(LOGS, { label: 'baseline', databaseOffset: 1 }),
  };
  try {
    const meta = await describeMachine(redisBySystem.ours, builtAt);
    const sink = settings.tracing ? await traceOursToSink(LOGS) : undefined;
    const results = settings.sseOnly
      ? { ours: { system: 'ours', sse: await measureStreams(SYSTEMS.ours, redisBySystem.ours, LOGS, settings) } }
      : await measureSystems([SYSTEMS.ours, SYSTEMS.baseline], redisBySystem, { settings, logDir: LOGS });
    const rows = buildRows(settings, results);
    const markdown = renderMarkdown(meta, settings, rows, results);
    writeResults(RESULTS, markdown, { meta, settings, rows, results });
    process.stdout.write(markdown);
    await sink?.stop();
    console.error(`[bench] written to ${join(RESULTS, 'latest.md')} and latest.json`);
  } finally {
    await Promise.all(Object.values(redisBySystem).map((redis) => redis?.stop()));
  }
}

// Ctrl-C or a kill of the harness still stops the children (the 'finally' blocks do not
// run on a signal); a second signal exits at once.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`[bench] ${signal}: stopping child processes`);
    stopAll().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  console.error(`[bench] failed: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
// Open handles (autocannon timers, sockets of a failed phase) must not keep the harness up.
process.exit(process.exitCode ?? 0);
