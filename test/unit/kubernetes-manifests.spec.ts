import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { environmentVariableNames, validateEnvironment, type Environment } from '@report-jobs/config';
import {
  HAND_BACK_TIMEOUT_MS,
  HAND_BACK_WINDOW_MS,
} from '../../apps/worker/src/processors/report-worker';
import { ENTRY_POINTS } from '../support/entry-points';
import { unknownFields, validateAgainstSchema } from '../support/kubernetes-schemas';
import {
  containerEnvironment,
  find,
  KUBERNETES_DIR,
  mebibytes,
  portNumber,
  workload,
  type Container,
  type Probe,
} from '../support/kubernetes-workloads';
import { kustomizationDirs, renderKustomization, unlistedFiles, type KubernetesObject } from '../support/kustomize';

// kubectl and a cluster are not available where the tests run: the manifests are rendered
// as `kubectl apply -k` would, validated against the Kubernetes and KEDA schemas, and
// checked against the apps' real configuration.
const ROOT = join(__dirname, '..', '..');
const SITES = kustomizationDirs(KUBERNETES_DIR).map((dir) => relative(KUBERNETES_DIR, dir));
const rendered = Object.fromEntries(SITES.map((site) => [site, renderKustomization(join(KUBERNETES_DIR, site))]));
const base = rendered.base;
const api = workload(base, 'report-jobs-api');
const worker = workload(base, 'report-jobs-worker');
const apiEnv = containerEnvironment(base, api.container);
const workerEnv = containerEnvironment(base, worker.container);
const describeObject = (object: KubernetesObject) => `${object.kind}/${object.metadata.name}`;

/**
 * The metric families the apps export at /metrics (the worker on its health port, the API
 * on METRICS_PORT); the autoscaling queries may use only these.
 */
const APP_METRICS = [
  'http_request_duration_seconds',
  'report_jobs_submitted_total',
  'report_jobs_queue_jobs',
  'report_jobs_queue_oldest_waiting_age_seconds',
  'report_jobs_job_wait_seconds',
  'report_jobs_job_run_seconds',
  'report_jobs_attempts_total',
];
/** The API's metrics port when METRICS_PORT is not set. */
const DEFAULT_METRICS_PORT = 9464;

/** The app's settings as the container would boot with them (Secrets left out). */
const settings = (values: Record<string, string>): Environment => validateEnvironment(values);

describe('deploy/kubernetes kustomizations', () => {
  it('has a base and a production overlay', () => {
    expect(SITES).toEqual(['base', 'overlays/production']);
  });

  it.each(SITES)('%s lists every manifest in its folder', (site) => {
    expect(unlistedFiles(join(KUBERNETES_DIR, site))).toEqual([]);
  });

  it('the renderer refuses what kubectl would fail on or what it does not implement', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomization-'));
    const kustomization = (fields: string) => writeFileSync(join(dir, 'kustomization.yaml'), `kind: Kustomization\n${fields}`);
    try {
      writeFileSync(join(dir, 'present.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: present\n');
      writeFileSync(join(dir, 'forgotten.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: forgotten\n');
      kustomization('resources:\n  - present.yaml\n  - missing.yaml\n');
      expect(() => renderKustomization(dir)).toThrow('lists missing.yaml, which does not exist');
      expect(unlistedFiles(dir)).toEqual(['forgotten.yaml']);
      kustomization('resources:\n  - present.yaml\ncommonLabels:\n  team: reports\n');
      expect(() => renderKustomization(dir)).toThrow('fields this renderer does not implement: commonLabels');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders the base as one API and one worker with what they need, and no Secret', () => {
    expect(base.map(describeObject).sort()).toEqual([
      'ConfigMap/report-jobs-config',
      'Deployment/report-jobs-api',
      'Deployment/report-jobs-worker',
      'HorizontalPodAutoscaler/report-jobs-api',
      'PodDisruptionBudget/report-jobs-api',
      'PodDisruptionBudget/report-jobs-worker',
      'ScaledObject/report-jobs-worker',
      'Service/report-jobs-api',
      'ServiceAccount/report-jobs',
    ]);
  });

  it('the production overlay sets namespace, image, public URL and Prometheus on the base', () => {
    const production = rendered['overlays/production'];
    expect(production.filter((object) => object.kind !== 'Namespace')).toHaveLength(base.length);
    const namespace = find(production, 'Namespace', 'report-jobs');
    for (const object of production) {
      if (object !== namespace) expect(object.metadata.namespace).toBe('report-jobs');
    }
    for (const name of ['report-jobs-api', 'report-jobs-worker']) {
      expect(workload(production, name).container.image).toBe('registry.example.com/report-jobs:0.1.0');
    }
    expect(settings(find(production, 'ConfigMap', 'report-jobs-config').data as Record<string, string>).PUBLIC_BASE_URL).toBe(
      'https://reports.example.com',
    );
    const triggers = (find(production, 'ScaledObject', 'report-jobs-worker').spec as ScaledObjectSpec).triggers;
    for (const trigger of triggers) expect(trigger.metadata.serverAddress).toBe('http://prometheus-operated.monitoring.svc:9090');
  });
});

describe('the Kubernetes and KEDA schemas', () => {
  const everyObject = SITES.flatMap((site) => rendered[site].map((object) => [`${site}: ${describeObject(object)}`, object] as const));

  it.each(everyObject)('%s is valid', async (_name, object) => {
    await expect(validateAgainstSchema(object)).resolves.toBeUndefined();
  });

  it('no manifest has a field the API server does not know', () => {
    expect(unknownFields(everyObject.map(([, object]) => object))).toEqual([]);
  });

  // The validators must be able to fail, or the checks above prove nothing.
  // A broken copy is, by design, not of any declared type.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const broken = (object: KubernetesObject, breakIt: (copy: any) => void): KubernetesObject => {
    const copy = structuredClone(object);
    breakIt(copy);
    return copy;
  };
  const apiDeployment = find(base, 'Deployment', 'report-jobs-api');
  const scaledObject = find(base, 'ScaledObject', 'report-jobs-worker');

  it('rejects a wrong type and a missing required field, in Kubernetes objects and in the KEDA CRD', async () => {
    const portAsText = broken(apiDeployment, (copy) => (copy.spec.template.spec.containers[0].ports[0].containerPort = '3000'));
    await expect(validateAgainstSchema(portAsText)).rejects.toThrow('containerPort must be integer');
    const nameless = broken(apiDeployment, (copy) => delete copy.spec.template.spec.containers[0].name);
    await expect(validateAgainstSchema(nameless)).rejects.toThrow('containers/0 must have required property name');
    const countAsText = broken(scaledObject, (copy) => (copy.spec.minReplicaCount = 'one'));
    await expect(validateAgainstSchema(countAsText)).rejects.toThrow('minReplicaCount must be integer');
    const typeless = broken(scaledObject, (copy) => delete copy.spec.triggers[0].type);
    await expect(validateAgainstSchema(typeless)).rejects.toThrow('triggers/0 must have required property type');
  });

  it('rejects unknown fields, which the schema validators alone let through', async () => {
    const misspelt = broken(apiDeployment, (copy) => {
      const container = copy.spec.template.spec.containers[0];
      container.readinesProbe = container.readinessProbe;
      delete container.readinessProbe;
    });
    await expect(validateAgainstSchema(misspelt)).resolves.toBeUndefined();
    const misplaced = broken(scaledObject, (copy) => (copy.spec.minReplicas = 1));
    expect(unknownFields([misspelt, misplaced])).toEqual([
      expect.stringMatching(/^Deployment\/report-jobs-api: .*"readinesProbe".* does not exist in type 'IContainer'/),
      expect.stringMatching(/^ScaledObject\/report-jobs-worker: .*"minReplicas".* does not exist in type 'IScaledObjectSpec'/),
    ]);
  });
});

describe('the pods against the apps’ configuration', () => {
  const apps = [
    ['api', api, apiEnv],
    ['worker', worker, workerEnv],
  ] as const;

  it.each(apps)('%s sets only variables the apps read, with valid values', (_name, _workload, env) => {
    const names = [...Object.keys(env.values), ...Object.keys(env.fromSecrets)];
    expect(names.filter((name) => !environmentVariableNames().includes(name))).toEqual([]);
    expect(() => settings(env.values)).not.toThrow();
    expect(settings(env.values).NODE_ENV).toBe('production');
  });

  it.each(apps)('%s takes its Redis addresses from the Secret, whichever mode it holds, and never holds a secret in its spec', (_name, _workload, env) => {
    // The Secret holds one of the three: a pod given two would refuse to start.
    expect(env.fromSecrets.REDIS_URL).toEqual({ name: 'report-jobs-secrets', key: 'redis-url', optional: true });
    expect(env.fromSecrets.REDIS_CLUSTER_NODES).toEqual({ name: 'report-jobs-secrets', key: 'redis-cluster-nodes', optional: true });
    expect(env.fromSecrets.REDIS_SENTINELS).toEqual({ name: 'report-jobs-secrets', key: 'redis-sentinels', optional: true });
    for (const secret of ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'API_KEYS', 'ADMIN_API_KEYS', 'WEBHOOK_SECRETS']) {
      expect(env.values[secret]).toBeUndefined();
    }
    // The API refuses callbacks of principals without a secret, the worker signs with it: both get it.
    expect(env.fromSecrets.WEBHOOK_SECRETS).toEqual({ name: 'report-jobs-secrets', key: 'webhook-secrets', optional: true });
    expect(base.filter((object) => object.kind === 'Secret')).toEqual([]);
  });

  it('gives the API its client keys as a file mounted from the Secret', () => {
    const path = apiEnv.values.API_KEYS_FILE;
    const mount = api.container.volumeMounts!.find((candidate) => path.startsWith(`${candidate.mountPath}/`))!;
    expect(mount.readOnly).toBe(true);
    const volume = api.pod.volumes!.find((candidate) => candidate.name === mount.name)!;
    expect(volume.secret!.secretName).toBe('report-jobs-secrets');
    expect(volume.secret!.items).toContainEqual({ key: 'api-keys', path: relative(mount.mountPath, path) });
    expect(apiEnv.fromSecrets.ADMIN_API_KEYS).toEqual({ name: 'report-jobs-secrets', key: 'admin-api-keys', optional: true });
  });

  it.each(apps)('%s runs the entry point of the build, with node options only', (name, { container }) => {
    const [node, ...args] = container.command!;
    expect(node).toBe('node');
    expect(args.at(-1)).toBe(ENTRY_POINTS[name]);
    for (const option of args.slice(0, -1)) expect(option).toMatch(/^--[a-z-]+(=\S+)?$/);
  });

  it('exposes the ports the apps listen on, and nothing else', () => {
    const apiSettings = settings(apiEnv.values) as Environment & { METRICS_PORT?: number };
    expect(api.container.ports).toEqual([
      { name: 'http', containerPort: apiSettings.PORT },
      { name: 'metrics', containerPort: apiSettings.METRICS_PORT ?? DEFAULT_METRICS_PORT },
    ]);
    expect(worker.container.ports).toEqual([{ name: 'health', containerPort: settings(workerEnv.values).WORKER_HEALTH_PORT }]);
  });

  it.each(apps)('%s probes its health endpoints over HTTP: live for startup and liveness, ready for readiness', (_name, { container }) => {
    const probe = (candidate?: Probe) => [candidate?.httpGet?.path, portNumber(container, candidate!.httpGet!.port)];
    const healthPort = container.name === 'api' ? settings(apiEnv.values).PORT : settings(workerEnv.values).WORKER_HEALTH_PORT;
    expect(probe(container.startupProbe)).toEqual(['/health/live', healthPort]);
    expect(probe(container.livenessProbe)).toEqual(['/health/live', healthPort]);
    expect(probe(container.readinessProbe)).toEqual(['/health/ready', healthPort]);
  });

  it.each(apps)('%s asks Prometheus to scrape /metrics on its metrics port', (_name, { template, container }) => {
    const metricsPort = portNumber(container, container.name === 'api' ? 'metrics' : 'health');
    expect(template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(metricsPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it('gives a stopping worker time to finish jobs and hand the rest back before it is killed', () => {
    const shutdownMs = settings(workerEnv.values).WORKER_SHUTDOWN_GRACE_MS + HAND_BACK_WINDOW_MS + HAND_BACK_TIMEOUT_MS;
    expect(worker.pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(shutdownMs);
  });

  it('keeps the API pod serving until its endpoint is gone, within its grace period', () => {
    const preStop = (api.container as Container & { lifecycle: { preStop: { exec: { command: string[] } } } }).lifecycle.preStop;
    const [sleep, seconds] = preStop.exec.command;
    expect(sleep).toBe('sleep');
    expect(api.pod.terminationGracePeriodSeconds!).toBeGreaterThan(Number(seconds));
  });

  it.each(apps)('%s runs unprivileged, as the image’s user, on a read-only root filesystem', (_name, { pod, container }) => {
    // The Dockerfile's `USER node` is uid 1000 in the official Node.js images; runAsNonRoot
    // can check only a numeric user.
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^USER node$/m);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find(base, 'ServiceAccount', pod.serviceAccountName!).automountServiceAccountToken).toBe(false);
  });

  it.each(apps)('%s caps the V8 heap well under its memory limit, and requests no more than the limit', (_name, { container }) => {
    const heap = Number(/^--max-old-space-size=(\d+)$/.exec(container.command!.find((arg) => arg.startsWith('--max-old-space-size'))!)![1]);
    const { requests, limits } = container.resources!;
    expect(heap).toBeLessThanOrEqual(mebibytes(limits!.memory) / 2);
    expect(mebibytes(requests!.memory)).toBeLessThanOrEqual(mebibytes(limits!.memory));
    expect(requests!.cpu).toMatch(/^\d+m$/);
  });
});

describe('the wiring between the objects', () => {
  const selects = (selector: { matchLabels: Record<string, string> }, labels: Record<string, string> = {}) =>
    Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);

  it('the Service sends traffic to API pods only, on their HTTP port', () => {
    const spec = find(base, 'Service', 'report-jobs-api').spec as { selector: Record<string, string>; ports: Array<{ targetPort: string }> };
    expect(selects({ matchLabels: spec.selector }, api.template.metadata.labels)).toBe(true);
    expect(selects({ matchLabels: spec.selector }, worker.template.metadata.labels)).toBe(false);
    expect(spec.ports.map((port) => portNumber(api.container, port.targetPort))).toEqual([settings(apiEnv.values).PORT]);
  });

  it.each([
    ['report-jobs-api', api],
    ['report-jobs-worker', worker],
  ])('%s: its Deployment and disruption budget select its own pods only', (name, { deployment, template }) => {
    const other = name === 'report-jobs-api' ? worker : api;
    for (const selector of [(deployment.spec as SelectorSpec).selector, (find(base, 'PodDisruptionBudget', name).spec as SelectorSpec).selector]) {
      expect(selects(selector, template.metadata.labels)).toBe(true);
      expect(selects(selector, other.template.metadata.labels)).toBe(false);
    }
  });

  it('autoscalers own the replica counts: HPA on the API, KEDA on the workers', () => {
    const hpa = find(base, 'HorizontalPodAutoscaler', 'report-jobs-api').spec as { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'report-jobs-api' });
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
    const scaled = find(base, 'ScaledObject', 'report-jobs-worker').spec as ScaledObjectSpec;
    expect(find(base, 'Deployment', scaled.scaleTargetRef.name)).toBe(worker.deployment);
    // A replicas field would reset the autoscaler's count on every apply.
    expect(api.deployment.spec).not.toHaveProperty('replicas');
    expect(worker.deployment.spec).not.toHaveProperty('replicas');
  });
});

interface SelectorSpec {
  selector: { matchLabels: Record<string, string> };
}
interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount: number;
  triggers: Array<{ type: string; name: string; metricType: string; metadata: Record<string, string> }>;
}

describe('worker autoscaling', () => {
  const spec = find(base, 'ScaledObject', 'report-jobs-worker').spec as ScaledObjectSpec;
  const trigger = (name: string) => spec.triggers.find((candidate) => candidate.name === name)!;

  it('scales on Prometheus queries of the apps’ queue gauges, never on a Redis list length', () => {
    expect(spec.triggers.map((candidate) => [candidate.name, candidate.type])).toEqual([
      ['queue-depth', 'prometheus'],
      ['queue-lag', 'prometheus'],
    ]);
    for (const { metadata } of spec.triggers) {
      const metricNames = metadata.query
        .replace(/\{[^}]*\}/g, '') // label matchers
        .replace(/\b(by|without)\s*\([^)]*\)/g, '') // grouping labels
        .match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)!
        .filter((token) => !['sum', 'max', 'min', 'avg', 'count'].includes(token));
      expect(metricNames.filter((name) => !APP_METRICS.includes(name))).toEqual([]);
    }
  });

  it('wants one worker per WORKER_CONCURRENCY jobs, and never scales to zero (workers also sweep retention)', () => {
    expect(trigger('queue-depth').metricType).toBe('AverageValue');
    expect(Number(trigger('queue-depth').metadata.threshold)).toBe(settings(workerEnv.values).WORKER_CONCURRENCY);
    expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
  });

  it('its queries, evaluated by Prometheus on an API and a worker reporting the same queue, count each job once', () => {
    // Every replica reports the whole queue; a second one must not double the count.
    const replicas = ['report-jobs-api-1', 'report-jobs-worker-1'];
    const counts = { waiting: 7, prioritized: 2, active: 3, delayed: 50, completed: 900, failed: 4 };
    const series = replicas.flatMap((pod, i) => [
      ...Object.entries(counts).map(([state, count]) => ({ series: `report_jobs_queue_jobs{pod="${pod}",state="${state}"}`, values: `${count}x5` })),
      // Scraped a few seconds apart, the replicas see different ages of the same oldest job.
      { series: `report_jobs_queue_oldest_waiting_age_seconds{pod="${pod}"}`, values: `${40 + 5 * i}x5` },
    ]);
    const expected = [
      [trigger('queue-depth').metadata.query, counts.waiting + counts.prioritized + counts.active],
      [trigger('queue-lag').metadata.query, 45],
    ] as const;
    const tests = {
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: series,
          promql_expr_test: expected.map(([expr, value]) => ({ expr, eval_time: '2m', exp_samples: [{ labels: '{}', value }] })),
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
    try {
      const file = join(dir, 'autoscaling.test.yml');
      writeFileSync(file, stringify(tests));
      const run = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
      if (run.error) throw new Error(`promtool (Debian package prometheus) is needed: ${run.error.message}`);
      expect({ status: run.status, output: run.stdout + run.stderr }).toMatchObject({ status: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
