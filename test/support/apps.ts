import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchApi } from './api-contract';
import { freePort } from './free-port';
import { fetchApi } from './http';
import { waitFor } from './wait';

const ROOT = join(__dirname, '..', '..');
/** How long an app's output must have been quiet for its log to count as settled. */
const LOG_QUIET_MS = 150;
export const API_MAIN = join(ROOT, 'dist/apps/api/apps/api/src/main.js');
export const WORKER_MAIN = join(ROOT, 'dist/apps/worker/apps/worker/src/main.js');

/** A built app running as its own process, as in production. */
export interface AppProcess {
  child: ChildProcess;
  /** Base URL of its HTTP port (the API, or the worker's health endpoints). */
  url: string;
  /** Its Prometheus endpoint: the API's metrics listener, or /metrics on the worker's health port. */
  metricsUrl: string;
  /** Every JSON log line it has written so far. */
  logLines(): Array<Record<string, unknown>>;
  /**
   * Its log lines once its output has been quiet for a moment. The apps write info lines
   * asynchronously, so a line logged just before something the test observed (a job
   * completing, an answer) may reach the test a little after it.
   */
  settledLogLines(): Promise<Array<Record<string, unknown>>>;
  /** What it has written to stderr so far. */
  stderrText(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function run(main: string, env: Record<string, string>, url: string, metricsUrl: string): AppProcess {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: build the apps first (npm run build; npm test does it)`);
  }
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let pending = '';
  let lastOutputAt = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    lastOutputAt = Date.now();
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null && process.env.DEBUG_APPS) console.error(stderr.join(''));
  });
  return {
    child,
    url,
    metricsUrl,
    logLines: () => lines,
    stderrText: () => stderr.join(''),
    settledLogLines: async () => {
      // Quiet for LOG_QUIET_MS since both the call and the last output (a few ms would do).
      const calledAt = Date.now();
      const deadline = calledAt + 5_000;
      while (Date.now() - Math.max(calledAt, lastOutputAt) < LOG_QUIET_MS && Date.now() < deadline) await sleep(LOG_QUIET_MS / 4);
      return lines;
    },
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

async function whenAnswering(app: AppProcess, what: string, path: string, get: (url: string) => Promise<Response>): Promise<AppProcess> {
  await waitFor(`${what} to answer ${path}`, async () => {
    if (app.child.exitCode !== null) {
      const said = app.stderrText().trim().split('\n').slice(-3).join(' | ');
      throw new Error(`${what} exited with code ${app.child.exitCode}${said ? `: ${said}` : ''}`);
    }
    const response = await get(`${app.url}${path}`);
    return response.status === 200;
  });
  return app;
}

/**
 * Where the apps find Redis: a REDIS_URL, or the variables of another mode (for example
 * REDIS_CLUSTER_NODES and QUEUE_PREFIX, or REDIS_SENTINELS and REDIS_SENTINEL_MASTER).
 */
export type RedisSettings = string | Record<string, string>;

const redisEnv = (redis: RedisSettings): Record<string, string> => (typeof redis === 'string' ? { REDIS_URL: redis } : redis);

export async function startApi(redis: RedisSettings, env: Record<string, string> = {}): Promise<AppProcess> {
  const app = await startApiAnswering(redis, env);
  try {
    return await whenAnswering(app, 'the API', '/health/ready', fetchApi);
  } catch (error) {
    await app.stop('SIGKILL');
    throw error;
  }
}

/**
 * Starts the API and waits until it serves its OpenAPI document, ready or not (for tests
 * of an API that must not become ready). From then on every answer it gives the tests is
 * checked against that document.
 */
export async function startApiAnswering(redis: RedisSettings, env: Record<string, string> = {}): Promise<AppProcess> {
  // A port found free can be taken by another process (a browser, another app) before the
  // API binds it: start again on other ports then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startApiOnFreePorts(redis, env);
    } catch (error) {
      if (attempt === 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startApiOnFreePorts(redis: RedisSettings, env: Record<string, string>): Promise<AppProcess> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  // A free metrics port too: several APIs (of this or other suites) would collide on the default one.
  const defaults = { ...redisEnv(redis), PORT: String(port), METRICS_PORT: String(metricsPort), HOST: '127.0.0.1', ALLOW_ANONYMOUS: 'true' };
  const merged = { ...defaults, ...env };
  const app = run(API_MAIN, merged, `http://127.0.0.1:${port}`, `http://127.0.0.1:${merged.METRICS_PORT}/metrics`);
  try {
    await whenAnswering(app, 'the API', '/docs-json', fetch);
    await watchApi(app.url);
    return app;
  } catch (error) {
    await app.stop('SIGKILL');
    throw error;
  }
}

export async function startWorker(redis: RedisSettings, env: Record<string, string> = {}): Promise<AppProcess> {
  return whenAnswering(runWorker(redis, env, await freePort()), 'a worker', '/health/ready', fetch);
}

/** Starts a worker and waits until it answers, ready or not. */
export async function startWorkerAnswering(redis: RedisSettings, env: Record<string, string> = {}): Promise<AppProcess> {
  return whenAnswering(runWorker(redis, env, await freePort()), 'a worker', '/health/live', fetch);
}

function runWorker(redis: RedisSettings, env: Record<string, string>, port: number): AppProcess {
  return run(WORKER_MAIN, { ...redisEnv(redis), WORKER_HEALTH_PORT: String(port), ...env }, `http://127.0.0.1:${port}`, `http://127.0.0.1:${port}/metrics`);
}
