import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startApi, type AppProcess } from '../support/apps';
import { postJson } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

const LOGGER_OPTIONS = join(__dirname, '..', '..', 'dist/apps/worker/libs/logging/src/logger-options.js');

/**
 * Runs a process that logs with the apps' logger options, then kills itself with SIGKILL
 * in the same turn of the event loop (nothing buffered gets a chance to be written), and
 * answers the messages that reached its standard output.
 */
function messagesBeforeSigkill(lines: Array<[level: 'info' | 'warn' | 'error', message: string]>): Promise<string[]> {
  const script = `
    const pino = require('pino');
    const { loggerOptions } = require(${JSON.stringify(LOGGER_OPTIONS)});
    const [options, destination] = loggerOptions('worker', 'info').pinoHttp;
    const logger = pino(options, destination);
    for (const [level, message] of ${JSON.stringify(lines)}) logger[level](message);
    process.kill(process.pid, 'SIGKILL');
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`the process ended by ${signal ?? 'exit'}, not SIGKILL`));
      resolve(output.split('\n').filter(Boolean).map((line) => String((JSON.parse(line) as { msg: unknown }).msg)));
    });
  });
}

// Info lines are written asynchronously (see libs/logging); warnings and errors must reach
// the output even when the process dies right after logging them.
describe('log output', () => {
  it('writes warnings and errors before anything else can happen, so a SIGKILL loses none', async () => {
    const lines: Array<['info' | 'warn' | 'error', string]> = [];
    for (let i = 0; i < 20; i++) lines.push(['info', `progress ${i}`], ['warn', `warning ${i}`], ['error', `error ${i}`]);
    const written = await messagesBeforeSigkill(lines);
    for (let i = 0; i < 20; i++) expect(written).toEqual(expect.arrayContaining([`warning ${i}`, `error ${i}`]));
    // Each line once, whatever its level.
    expect(new Set(written).size).toBe(written.length);
  });

  describe('of the API', () => {
    let redis: TestRedis;
    let api: AppProcess;

    beforeAll(async () => {
      redis = await startTestRedis();
      api = await startApi(redis.url);
    });
    afterAll(async () => {
      await api?.stop();
      await redis?.close();
    });

    it('logs a request whose client went away before the answer as aborted, with its id and how long it lasted', async () => {
      // No worker runs: the job stays pending and the wait would last 5 s.
      const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: 'gone-client', delay_seconds: 0 });
      const abandoned = new AbortController();
      const waiting = fetch(accepted.body.statusQueryGetUri as string, {
        headers: { prefer: 'wait=5', 'x-request-id': 'left-early-1' },
        signal: abandoned.signal,
      }).catch(() => undefined);
      setTimeout(() => abandoned.abort(), 300);
      await waiting;

      const line = await waitFor('the aborted request to be logged', async () =>
        api.logLines().find((each) => (each.req as { id?: string } | undefined)?.id === 'left-early-1'),
      );
      expect(line).toMatchObject({ level: 30, msg: 'request aborted', res: { statusCode: null } });
      expect(line.responseTime).toBeGreaterThanOrEqual(250);
      expect(line.responseTime).toBeLessThan(5_000);
    });
  });
});
