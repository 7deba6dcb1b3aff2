import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, waitReady } from './processes.mjs';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));
const ROOT = dirname(BENCH);

const BUILD = join(ROOT, 'dist');
const API_MAIN = 'apps/api/apps/api/src/main.js';
const WORKER_MAIN = 'apps/worker/apps/worker/src/main.js';
// Inside the repository, so that the copied code still finds node_modules.
const SNAPSHOT = join(BENCH, 'results/build');

/**
 * The Node options the image sets (Dockerfile, ENV NODE_OPTIONS): ours runs with them, as
 * in production; the baseline runs with Node's defaults.
 */
export const IMAGE_NODE_OPTIONS = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '';

/**
 * The two systems measured side by side: the built apps (run from a copy of dist/), and
 * the minimal Fastify + BullMQ baseline under bench/baseline. Both read the same
 * environment variables.
 */
export const SYSTEMS = {
  ours: {
    label: 'ours',
    apiMain: join(SNAPSHOT, API_MAIN),
    workerMain: join(SNAPSHOT, WORKER_MAIN),
    /** NODE_OPTIONS of the image; with --tracing, the OTEL_* variables that send ours' traces to the local sink. */
    env: { NODE_OPTIONS: IMAGE_NODE_OPTIONS },
  },
  baseline: {
    label: 'baseline',
    apiMain: join(BENCH, 'baseline/server.mjs'),
    workerMain: join(BENCH, 'baseline/worker.mjs'),
    env: {},
  },
};

/**
 * Copies dist/ aside and runs the copy: every process of a run then runs the same build,
 * even when dist/ is rebuilt meanwhile (npm test does). Returns when dist/ was built.
 */
export function snapshotBuild() {
  const mains = [API_MAIN, WORKER_MAIN].map((main) => join(BUILD, main));
  const missing = mains.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`${missing.join(' and ')} missing: run npm run build first`);
  }
  const builtAt = statSync(mains[0]).mtime;
  rmSync(SNAPSHOT, { recursive: true, force: true });
  cpSync(BUILD, SNAPSHOT, { recursive: true });
  return builtAt;
}

/**
 * The bench calls the API as an authenticated client, as production clients do: one key
 * per run, given to the API in API_KEYS and sent on every request. An API that does not
 * check keys (and the baseline) ignores both.
 */
const API_KEY = randomBytes(24).toString('hex');
export const CLIENT_HEADERS = { authorization: `Bearer ${API_KEY}` };

/**
 * One client sends thousands of requests per second here, far over any sane per-client
 * budget. The limits are set too high to ever reject rather than off (0), so that their
 * bookkeeping is still paid for, as in production.
 */
const NEVER_LIMITED = { RATE_LIMIT_SUBMITS_PER_MINUTE: '1000000000', RATE_LIMIT_READS_PER_MINUTE: '1000000000' };

/**
 * Environment of every app process: only what the apps read, so the figures do not
 * depend on the caller's shell. LOG_LEVEL=info is the apps' default, what users run:
 * log writing is part of what is measured.
 */
function appEnv(redisUrl, extra) {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: redisUrl,
    ...extra,
  };
}

/**
 * Starts the OTLP sink and points ours at it (over OTLP/HTTP with protobuf, the SDK's
 * default), every span sampled: the most tracing can cost.
 */
export async function traceOursToSink(logDir) {
  const port = await freePort();
  const sink = startProcess({
    name: 'OTLP sink',
    command: process.execPath,
    args: [join(BENCH, 'lib/otlp-sink.mjs'), String(port)],
    env: { PATH: process.env.PATH ?? '' },
    logFile: join(logDir, 'otlp-sink.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(sink, url);
  SYSTEMS.ours.env = { ...SYSTEMS.ours.env, OTEL_EXPORTER_OTLP_ENDPOINT: url };
  return sink;
}

/**
 * Starts the API. Its metrics are on (the default users run) on a free port of their own;
 * `{ metrics: false }` runs it with METRICS_PORT=0, to measure what metrics cost. `env`
 * adds settings of a phase; `tag` names the log file of an API started for one phase.
 */
export async function startApi(system, redisUrl, logDir, { metrics = true, env = {}, tag } = {}) {
  const port = await freePort();
  const metricsPort = metrics ? await freePort() : 0;
  const proc = startProcess({
    name: `${system.label} API`,
    command: process.execPath,
    args: [system.apiMain],
    env: appEnv(redisUrl, {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      API_KEYS: `bench:${API_KEY}`,
      ...NEVER_LIMITED,
      ...env,
      ...system.env,
    }),
    logFile: join(logDir, `${system.label}-api${tag ? `-${tag}` : ''}.log`),
  });
  proc.url = `http://127.0.0.1:${port}`;
  await waitReady(proc, proc.url);
  return proc;
}

/** Starts `count` worker processes side by side and waits until each is ready. */
export async function startWorkers(system, redisUrl, logDir, count, tag) {
  const workers = [];
  for (let i = 1; i <= count; i++) {
    const port = await freePort();
    const proc = startProcess({
      name: `${system.label} worker ${i}`,
      command: process.execPath,
      args: [system.workerMain],
      env: appEnv(redisUrl, { WORKER_HEALTH_PORT: String(port), ...system.env }),
      logFile: join(logDir, `${system.label}-worker-${tag}-${i}.log`),
    });
    proc.url = `http://127.0.0.1:${port}`;
    workers.push(proc);
  }
  await Promise.all(workers.map((proc) => waitReady(proc, proc.url)));
  return workers;
}
