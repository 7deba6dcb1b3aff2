import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ReportJobsClient } from '@report-jobs/client';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { fetchChecked } from '../support/http';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// The report-jobs command, run as its users run it (bin/report-jobs.mjs, a process of its
// own) against the real API, worker and Redis; its progress bar in a real terminal (tmux).

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin/report-jobs.mjs');
const API_KEY = 'cli-key-000001';
/** This customer's attempts all fail (the worker's SIMULATED_FAILURES). */
const FAILING_CUSTOMER = 'cli-fails';
const EXIT = { completed: 0, failed: 1, usage: 2, terminated: 3, notFoundOrGone: 4, unavailable: 5 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const run = promisify(execFile);

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

describe('the report-jobs command against the real API and worker', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let client: ReportJobsClient;

  beforeAll(async () => {
    redis = await startTestRedis();
    [api, worker] = await Promise.all([
      startApi(redis.url, { ALLOW_ANONYMOUS: 'false', API_KEYS: `cli:${API_KEY}` }),
      startWorker(redis.url, { SIMULATED_FAILURES: `${FAILING_CUSTOMER}=*`, WORKER_CONCURRENCY: '4' }),
    ]);
    client = new ReportJobsClient({ baseUrl: api.url, apiKey: API_KEY, fetch: fetchChecked });
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
  });

  /** Runs the command to its end, piped (stdout is not a terminal). */
  function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', REPORT_JOBS_URL: api.url, REPORT_JOBS_API_KEY: API_KEY, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const [stdout, stderr] = [[] as Buffer[], [] as Buffer[]];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.once('error', reject);
      child.once('close', (code) => {
        const out = Buffer.concat(stdout).toString();
        resolve({ code, stdout: out, stderr: Buffer.concat(stderr).toString(), lines: out.split('\n').filter(Boolean) });
      });
    });
  }

  const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);
  /** A job that has been picked up and has reported progress. */
  const runningJob = async (delaySeconds: number) => {
    const started = await client.start({ customer_id: `cli-running-${randomUUID()}`, delay_seconds: delaySeconds });
    await waitFor('the job to report progress', async () => (await client.status(started.instanceId)).customStatus !== null);
    return started.instanceId;
  };

  it("submit prints the new job's id; status and submit --wait print plain lines and exit 0", async () => {
    const submitted = await cli(['submit', '--customer-id', 'cli-1', '--delay', '30']);
    expect(submitted).toMatchObject({ code: EXIT.completed, stderr: '' });
    expect(submitted.lines).toHaveLength(1);
    const [instanceId] = submitted.lines;
    expect(instanceId).toMatch(UUID);
    const status = await cli(['status', instanceId]);
    expect(status.code).toBe(EXIT.completed);
    expect(status.lines).toEqual([expect.stringMatching(/^(Pending|Running)\b/)]);
    await client.cancel(instanceId);

    const waited = await cli(['submit', '--customer-id', 'cli-2', '--delay', '1', '--wait']);
    expect(waited.code).toBe(EXIT.completed);
    expect(waited.lines.at(-1)).toMatch(/^Completed [0-9a-f-]{36} after \d+:\d\d: \{"customerId":"cli-2","operation":"rebuild-report"\}$/);
  });

  it('prints only JSON with --json', async () => {
    const submitted = await cli(['--json', 'submit', '--customer-id', 'cli-json']);
    expect(submitted.code).toBe(EXIT.completed);
    const accepted = JSON.parse(submitted.stdout);
    expect(accepted).toMatchObject({ status: 'accepted', instanceId: expect.stringMatching(UUID), idempotencyKey: expect.any(String) });

    const waited = await cli(['submit', '--customer-id', 'cli-json', '--delay', '1', '--wait', '--json']);
    expect(waited.code).toBe(EXIT.completed);
    expect(waited.lines).toHaveLength(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({ runtimeStatus: 'Completed', output: { result: { customerId: 'cli-json' } } });

    const status = await cli(['status', accepted.instanceId, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ instanceId: accepted.instanceId, name: 'report' });
    const listed = await cli(['list', '--json', '--page-size', '1']);
    expect(listed.code).toBe(EXIT.completed);
    const jobs = listed.lines.map((line) => JSON.parse(line));
    expect(jobs.map((job) => job.instanceId)).toContain(accepted.instanceId);

    const missing = await cli(['status', randomUUID(), '--json']);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toMatchObject({ status: 404, requestId: expect.any(String) });
  });

  it('lands every submit with the same --idempotency-key on one job', async () => {
    const key = `cli-key-${randomUUID()}`;
    const first = await cli(['submit', '--customer-id', 'cli-idem', '--delay', '0', '--idempotency-key', key]);
    const second = await cli(['submit', '--customer-id', 'cli-idem', '--delay', '0', '--idempotency-key', key]);
    expect(first.code).toBe(EXIT.completed);
    expect(second.stdout).toBe(first.stdout);
  });

  it('exits 1 when the job failed, printing why', async () => {
    const failed = await cli(['submit', '--customer-id', FAILING_CUSTOMER, '--delay', '0', '--wait']);
    expect(failed.code).toBe(EXIT.failed);
    expect(failed.lines.at(-1)).toMatch(/^Failed [0-9a-f-]{36} after \d+:\d\d: .*Simulated failure/);
  });

  it('exits 3 for a job that was terminated: cancel, then wait', async () => {
    const instanceId = (await client.start({ customer_id: 'cli-cancel', delay_seconds: 30 })).instanceId;
    const cancelled = await cli(['cancel', instanceId, '--reason', 'not needed']);
    expect(cancelled.code).toBe(EXIT.completed);
    expect(cancelled.lines).toEqual([expect.stringMatching(/^(Terminated|Cancelling: )/)]);
    const waited = await cli(['wait', instanceId]);
    expect(waited.code).toBe(EXIT.terminated);
    expect(waited.lines.at(-1)).toMatch(new RegExp(`^Terminated ${instanceId} after \\d+:\\d\\d: not needed$`));
    expect((await cli(['status', instanceId])).code).toBe(EXIT.terminated);
  });

  it('exits 4 for an unknown job, and for one purged, printing the detail and request id, never a stack', async () => {
    const unknown = await cli(['wait', randomUUID()]);
    expect(unknown.code).toBe(EXIT.notFoundOrGone);
    expect(unknown.stderr).toMatch(/^report-jobs: No report job has instanceId .*\n  request id: \S+\n$/);
    noStack(unknown.stderr);

    const started = await client.start({ customer_id: 'cli-purge', delay_seconds: 0 });
    await client.waitForCompletion(started.instanceId);
    const purged = await cli(['purge', started.instanceId]);
    expect(purged).toMatchObject({ code: EXIT.completed, lines: [`Purged ${started.instanceId}`] });
    const gone = await cli(['status', started.instanceId]);
    expect(gone.code).toBe(EXIT.notFoundOrGone);
    expect(gone.stderr).toMatch(/purged at .*\n  request id: \S+/);
    noStack(gone.stderr);
    expect((await cli(['purge', started.instanceId])).code).toBe(EXIT.notFoundOrGone);
  });

  it('exits 5 when the service cannot be reached', async () => {
    const down = await cli(['status', randomUUID(), '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(EXIT.unavailable);
    expect(down.stderr).toMatch(/^report-jobs: Could not reach http:\/\/127\.0\.0\.1:9/);
    noStack(down.stderr);
  });

  it('exits 2 on a usage error, its own or a field the service rejects', async () => {
    const missing = await cli(['submit']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain("required option '--customer-id <id>' not specified");
    expect((await cli(['submit', '--customer-id', 'c', '--delay', 'soon'])).code).toBe(EXIT.usage);
    expect((await cli(['submit', '--customer-id', 'c', '--operation', 'nope'])).code).toBe(EXIT.usage);
    expect((await cli(['frobnicate'])).code).toBe(EXIT.usage);

    const rejected = await cli(['submit', '--customer-id', 'has spaces']);
    expect(rejected.code).toBe(EXIT.usage);
    expect(rejected.stderr).toMatch(/^report-jobs: The request is invalid; see errors\.\n  customer_id: .+\n  request id: \S+\n$/);

    const help = await cli(['--help']);
    expect(help.code).toBe(EXIT.completed);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*3 {2}the job was terminated/);
  });

  it('takes the URL and key from the environment, and flags override them', async () => {
    const unknownId = randomUUID();
    // The environment's key is right; a wrong --api-key wins and is refused (401).
    const wrongFlag = await cli(['status', unknownId, '--api-key', 'not-a-key-000']);
    expect(wrongFlag.code).toBe(EXIT.failed);
    expect(wrongFlag.stderr).toContain('request id');
    // The environment's key and URL are wrong; the flags are right.
    const rightFlags = await cli(['status', unknownId, '--api-key', API_KEY, '--url', api.url], {
      REPORT_JOBS_API_KEY: 'not-a-key-000',
      REPORT_JOBS_URL: 'http://127.0.0.1:9',
    });
    expect(rightFlags.code).toBe(EXIT.notFoundOrGone);
  });

  it('prints a plain line per change while waiting piped, then the final line', async () => {
    const instanceId = await runningJob(6);
    const waited = await cli(['wait', instanceId]);
    expect(waited.code).toBe(EXIT.completed);
    expect(waited.lines.length).toBeGreaterThanOrEqual(2);
    expect(waited.lines[0]).toMatch(/^Running \d+% Rebuilding report \(\d+ of 6 s\)$/);
    expect(waited.lines.at(-1)).toMatch(new RegExp(`^Completed ${instanceId} after \\d+:\\d\\d: `));
    expect(waited.stdout).not.toContain('\x1b');
  });

  it('watch follows the job to its end: plain lines, or every status as JSON', async () => {
    const instanceId = await runningJob(4);
    const [watched, json] = await Promise.all([cli(['watch', instanceId]), cli(['watch', instanceId, '--json'])]);
    expect(watched.code).toBe(EXIT.completed);
    expect(watched.lines[0]).toMatch(/^Running \d+% /);
    expect(watched.lines.at(-1)).toMatch(new RegExp(`^Completed ${instanceId} `));
    const statuses = json.lines.map((line) => JSON.parse(line));
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(statuses.at(-1)).toMatchObject({ instanceId, runtimeStatus: 'Completed' });
    expect(statuses.slice(0, -1).every((status) => status.runtimeStatus === 'Running')).toBe(true);
  });

  describe('on a terminal', () => {
    const socket = `report-jobs-cli-${process.pid}`;
    const tmux = (...args: string[]) => run('tmux', ['-u', '-L', socket, ...args], { env: { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8' } });
    const screen = async () => (await tmux('capture-pane', '-p', '-t', 'cli')).stdout;
    afterAll(() => tmux('kill-server').catch(() => undefined));

    it('shows a progress bar with the progress message and elapsed time while the job runs, then the final line', async () => {
      const instanceId = await runningJob(8);
      const env = `REPORT_JOBS_URL=${api.url} REPORT_JOBS_API_KEY=${API_KEY}`;
      const command = `env ${env} '${process.execPath}' '${BIN}' wait ${instanceId}; echo "exit code $?"; sleep 600`;
      await tmux('new-session', '-d', '-x', '100', '-y', '20', '-s', 'cli', command);

      const bar = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[[█░]{24}\] +\d+% {2}\d+:\d\d {2}Running {2}Rebuilding report \(\d+ of 8 s\)/;
      const running = await waitFor('the progress bar', async () => bar.test(await screen()) && (await screen()));
      expect(running.split('\n').filter((line) => line.trim())).toHaveLength(1);

      const ended = await waitFor('the final line', async () => /exit code \d+/.test(await screen()) && (await screen()), { timeoutMs: 30_000 });
      expect(ended).toMatch(new RegExp(`^Completed ${instanceId} after \\d+:\\d\\d: \\{"customerId"`, 'm'));
      expect(ended).toContain('exit code 0');
      expect(ended).not.toMatch(/\[[█░]+\]/);
    });
  });
});
