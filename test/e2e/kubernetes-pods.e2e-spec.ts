import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentVariableNames } from '@report-jobs/config';
import { freePort } from '../support/free-port';
import { pollUntilDone, postJson } from '../support/http';
import { containerEnvironment, find, KUBERNETES_DIR, workload, type Container } from '../support/kubernetes-workloads';
import { renderKustomization } from '../support/kustomize';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

// The pods of deploy/kubernetes without a cluster: each app runs with its container's own
// command and environment (ConfigMap and literal values; Secrets replaced by test ones),
// on a read-only root filesystem as readOnlyRootFilesystem gives it, and the probes the
// manifests declare are asked the way the kubelet asks them.
const ROOT = join(__dirname, '..', '..');
const base = renderKustomization(join(KUBERNETES_DIR, 'base'));
const api = workload(base, 'report-jobs-api');
const worker = workload(base, 'report-jobs-worker');
const CLIENT_KEY = 'k8s-test-key-0123456789';

/**
 * Runs a command in its own mount namespace whose root filesystem is remounted read-only:
 * stricter than the pods, which also get a writable /tmp. A user namespace (util-linux's
 * unshare --map-root-user) lets this work without root too.
 */
function readOnlyRoot(command: string[]): string[] {
  const remount = 'mount -o remount,bind,ro / && exec "$@"';
  return ['unshare', '--map-root-user', '--mount', '--propagation', 'private', '--', 'sh', '-c', remount, 'sh', ...command];
}

interface Pod {
  child: ChildProcess;
  port: number;
  output: string[];
}

/** Starts a container's command from the repository root (the image's working directory). */
function startContainer(container: Container, env: Record<string, string>, port: number): Pod {
  const [command, ...args] = readOnlyRoot(container.command!.map((arg) => (arg === 'node' ? process.execPath : arg)));
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return { child, port, output };
}

/** An HTTP probe as the kubelet runs it: any status from 200 to 399 passes. */
async function probe(pod: Pod, container: Container, which: 'startupProbe' | 'livenessProbe' | 'readinessProbe') {
  const response = await fetch(`http://127.0.0.1:${pod.port}${container[which]!.httpGet!.path}`, { signal: AbortSignal.timeout(3_000) });
  return response.status >= 200 && response.status < 400;
}

function stop(pod: Pod | undefined): Promise<number | null> {
  if (!pod || pod.child.exitCode !== null || pod.child.signalCode !== null) return Promise.resolve(pod?.child.exitCode ?? null);
  return new Promise((resolve) => {
    pod.child.once('exit', (code) => resolve(code));
    pod.child.kill('SIGTERM');
  });
}

describe('the Kubernetes pods, run as their containers would run', () => {
  let redis: TestRedis;
  let secrets: string;
  let apiPod: Pod;
  let workerPod: Pod;
  let metricsPort: number;

  beforeAll(async () => {
    redis = await startTestRedis();
    // The Secret's api-keys file, as the volume mounts it.
    secrets = mkdtempSync(join(tmpdir(), 'report-jobs-secrets-'));
    writeFileSync(join(secrets, 'api-keys'), `# one principal:key per line\nk8s-test:${CLIENT_KEY}\n`);
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    metricsPort = await freePort();
    // Free ports instead of the declared ones (other suites run beside this one); the unit
    // tests check that the declared ports are the ones the apps listen on.
    const metricsEnv: Record<string, string> = environmentVariableNames().includes('METRICS_PORT') ? { METRICS_PORT: String(metricsPort) } : {};
    apiPod = startContainer(
      api.container,
      {
        ...containerEnvironment(base, api.container).values,
        ...metricsEnv,
        PORT: String(apiPort),
        API_KEYS_FILE: join(secrets, 'api-keys'),
        REDIS_URL: redis.url,
      },
      apiPort,
    );
    workerPod = startContainer(
      worker.container,
      { ...containerEnvironment(base, worker.container).values, WORKER_HEALTH_PORT: String(workerPort), REDIS_URL: redis.url },
      workerPort,
    );
  });
  afterAll(async () => {
    await Promise.all([stop(apiPod), stop(workerPod)]);
    await redis?.close();
    if (secrets) rmSync(secrets, { recursive: true, force: true });
  });

  it('runs them on a root filesystem that is really read-only', () => {
    const [command, ...args] = readOnlyRoot(['touch', join(ROOT, '.read-only-probe')]);
    const write = spawnSync(command, args, { encoding: 'utf8' });
    expect(write.status).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');
  });

  it.each([
    ['api', () => apiPod, api.container],
    ['worker', () => workerPod, worker.container],
  ])('%s: the startup, liveness and readiness probes pass', async (name, pod, container) => {
    await waitFor(`the ${name} startup probe`, () => {
      if (pod().child.exitCode !== null) throw new Error(`${name} exited ${pod().child.exitCode}: ${pod().output.join('')}`);
      return probe(pod(), container, 'startupProbe');
    });
    expect(await probe(pod(), container, 'livenessProbe')).toBe(true);
    await waitFor(`the ${name} readiness probe`, () => probe(pod(), container, 'readinessProbe'));
  });

  it('accepts a client key from the mounted key file, and the worker runs the job', async () => {
    const headers = { authorization: `Bearer ${CLIENT_KEY}` };
    const accepted = await postJson(`http://127.0.0.1:${apiPod.port}/api/jobs/reports`, { customer_id: 'cust-k8s', delay_seconds: 0 }, headers);
    expect(accepted.status).toBe(202);
    const final = (await pollUntilDone(accepted.body.statusQueryGetUri as string, { headers })).at(-1)!;
    expect(final.body).toMatchObject({ runtimeStatus: 'Completed' });
    const anonymous = await postJson(`http://127.0.0.1:${apiPod.port}/api/jobs/reports`, { customer_id: 'cust-k8s' });
    expect(anonymous.status).toBe(401);
  });

  // Until the apps export Prometheus metrics (METRICS_PORT in the environment schema), the
  // unit tests check the autoscaling queries against the documented metric names only.
  const metricsServed = environmentVariableNames().includes('METRICS_PORT');
  (metricsServed ? it : it.skip)('serves, where Prometheus is told to scrape, every metric the autoscaling queries', async () => {
    const queries = (find(base, 'ScaledObject', 'report-jobs-worker').spec as { triggers: Array<{ metadata: { query: string } }> }).triggers.map(
      (trigger) => trigger.metadata.query,
    );
    const queried = [...new Set(queries.flatMap((query) => query.match(/report_jobs_[a-z_]+/g) ?? []))];
    expect(queried.length).toBeGreaterThan(0);
    const scrapes = [
      [workerPod.port, worker.template.metadata.annotations!['prometheus.io/path']],
      [metricsPort, api.template.metadata.annotations!['prometheus.io/path']],
    ] as const;
    for (const [port, path] of scrapes) {
      const text = await waitFor(`metrics on port ${port}`, async () => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`);
        const body = await response.text();
        return response.status === 200 && queried.every((name) => body.includes(`\n${name}`)) && body;
      });
      for (const name of queried) expect(text).toMatch(new RegExp(`^${name}(\\{| )`, 'm'));
    }
  });

  it('the worker exits 0 on SIGTERM, as a graceful stop', async () => {
    expect(await stop(workerPod)).toBe(0);
  });
});
