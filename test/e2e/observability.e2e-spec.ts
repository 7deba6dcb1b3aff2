import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startApi, startWorker, type AppProcess } from '../support/apps';
import { freePort } from '../support/free-port';
import { pollUntilDone, postJson, request } from '../support/http';
import { scrape } from '../support/metrics';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const OBSERVABILITY = join(ROOT, 'deploy/observability');
const RULES = join(OBSERVABILITY, 'alerts.yml');
const DASHBOARD = join(OBSERVABILITY, 'grafana/dashboards/report-jobs.json');

/** Debian's prometheus package brings both; .ci/run installs it where it is missing. */
function requireTool(name: string): void {
  if (spawnSync(name, ['--version']).error) throw new Error(`${name} is missing: apt-get install prometheus`);
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Metric names a PromQL expression reads (not functions, keywords, labels or Grafana variables). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);
  return [...bare.matchAll(/(?<![\w.$])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()/g)].map((match) => match[0]).filter((name) => !keywords.has(name.toLowerCase()));
}

function rulesExpressions(): string[] {
  const groups = parse(readFileSync(RULES, 'utf8')).groups as Array<{ rules: Array<{ expr: string }> }>;
  return groups.flatMap((group) => group.rules.map((rule) => rule.expr));
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
}

describe('metricNames', () => {
  it('finds the metrics of an expression, and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{status_code=~"5.."}[$__rate_interval]))) ' +
          '/ on() max(report_jobs_queue_jobs{state="active"}) > 1e-9 and up == 0',
      ),
    ).toEqual(['http_request_duration_seconds_bucket', 'report_jobs_queue_jobs', 'up']);
  });
});

describe('alert rules and Prometheus configuration', () => {
  beforeAll(() => requireTool('promtool'));

  it('pass promtool check config and check rules', () => {
    const config = promtool('check', 'config', join(OBSERVABILITY, 'prometheus.yml'));
    expect(config.output).toContain('SUCCESS');
    expect(config.status).toBe(0);
    const rules = promtool('check', 'rules', RULES);
    expect(rules.output).toMatch(/SUCCESS: 6 rules found/);
    expect(rules.status).toBe(0);
  });

  it('fire on the series they are meant for, and not before (promtool test rules)', () => {
    const tests = promtool('test', 'rules', join(ROOT, 'test/observability/alerts.test.yml'));
    expect(tests.output).toContain('SUCCESS');
    expect(tests.status).toBe(0);
  });
});

// The real apps, and a real Prometheus scraping them as it would in production.
describe('monitoring the real apps', () => {
  let redis: TestRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let storage: string;

  const submit = async (customer: string) => {
    const accepted = await postJson(`${api.url}/api/jobs/reports`, { customer_id: customer, delay_seconds: 0 });
    expect(accepted.status).toBe(202);
    return (await pollUntilDone(accepted.body.statusQueryGetUri as string)).at(-1)!.body.runtimeStatus;
  };

  /** The answer of an instant PromQL query, as [labels, value] pairs. */
  const query = async (promql: string): Promise<Array<[Record<string, string>, number]>> => {
    const answer = await request<{ status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
      `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    if (answer.body.status !== 'success') throw new Error(`${promql}: ${JSON.stringify(answer.body)}`);
    return answer.body.data.result.map((entry) => [entry.metric, Number(entry.value[1])]);
  };

  beforeAll(async () => {
    requireTool('prometheus');
    redis = await startTestRedis();
    const policy = { JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100' };
    [api, worker] = await Promise.all([startApi(redis.url, policy), startWorker(redis.url, { ...policy, SIMULATED_FAILURES: 'cust-broken=*' })]);

    storage = mkdtempSync(join(tmpdir(), 'report-jobs-prometheus-'));
    const target = (url: string) => new URL(url).host;
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [RULES],
      scrape_configs: [
        { job_name: 'report-jobs-api', static_configs: [{ targets: [target(api.metricsUrl)] }] },
        { job_name: 'report-jobs-worker', static_configs: [{ targets: [target(worker.metricsUrl)] }] },
      ],
    };
    writeFileSync(join(storage, 'prometheus.yml'), JSON.stringify(config));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(storage, 'prometheus.yml')}`, `--storage.tsdb.path=${join(storage, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    await waitFor('Prometheus to be ready', async () => (await fetch(`${prometheusUrl}/-/ready`)).status === 200, { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis?.close();
    if (storage) rmSync(storage, { recursive: true, force: true });
  });

  it('uses in its dashboard and alert rules only metrics the apps really export', async () => {
    expect(await submit('cust-ok')).toBe('Completed');
    expect(await submit('cust-broken')).toBe('Failed');
    const exported = new Set([...(await scrape(api.metricsUrl)), ...(await scrape(worker.metricsUrl))].map((sample) => sample.name));
    const used = new Set([...dashboardExpressions(), ...rulesExpressions()].flatMap(metricNames));
    expect(used.size).toBeGreaterThan(8);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('answers PromQL about the running service: jobs complete, and the queue drains to 0', async () => {
    await waitFor('Prometheus to scrape both apps', async () => (await query('up == 1')).length === 2, { timeoutMs: 30_000 });
    const jobs = await Promise.all(Array.from({ length: 5 }, (_, i) => submit(`cust-${i}`)));
    expect(jobs).toEqual(Array(5).fill('Completed'));

    const completionRate = await waitFor(
      'a completion rate above 0',
      async () => {
        const [result] = await query('sum(rate(report_jobs_attempts_total{outcome="completed"}[15s]))');
        return result && result[1] > 0 ? result[1] : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(completionRate).toBeGreaterThan(0);
    await waitFor(
      'the queue to read empty in Prometheus',
      async () => {
        const depth = await query('sum(max by (state) (report_jobs_queue_jobs{state=~"waiting|prioritized|active"}))');
        return depth.length === 1 && depth[0][1] === 0;
      },
      { timeoutMs: 30_000 },
    );
    // The API is scraped on its own schedule: wait for a scrape taken after the submissions.
    const submitted = await waitFor(
      'the submissions in a scrape of the API',
      async () => {
        const [result] = await query('sum(report_jobs_submitted_total)');
        return result && result[1] >= 5 ? result[1] : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(submitted).toBeGreaterThanOrEqual(5);
  });

  it('loads the shipped alert rules, all healthy against the real series', async () => {
    const answer = await request<{ data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> } }>(`${prometheusUrl}/api/v1/rules`);
    const rules = answer.body.data.groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.name).sort()).toEqual([
      'ReportJobsApiErrorRatioHigh',
      'ReportJobsFailureRatioHigh',
      'ReportJobsNoWorkerConsuming',
      'ReportJobsQueueLagHigh',
      'ReportJobsRedisUnreachable',
      'ReportJobsWebhookFailureRatioHigh',
    ]);
    await waitFor('every rule to be evaluated', async () => {
      const now = await request<{ data: { groups: Array<{ rules: Array<{ health: string }> }> } }>(`${prometheusUrl}/api/v1/rules`);
      return now.body.data.groups.flatMap((group) => group.rules).every((rule) => rule.health === 'ok');
    });
  });
});
