import { join } from 'node:path';
import type { KubernetesObject } from './kustomize';

/** deploy/kubernetes: a base and the overlays built on it. */
export const KUBERNETES_DIR = join(__dirname, '..', '..', 'deploy', 'kubernetes');

/** The parts of a pod spec the tests read (the schemas check the rest). */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } & Record<string, unknown> }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  volumes?: Array<{ name: string; secret?: { secretName: string; items?: Array<{ key: string; path: string }> } } & Record<string, unknown>>;
}

export function find(objects: KubernetesObject[], kind: string, name: string): KubernetesObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name}`);
  return found;
}

/** A Deployment with its pod template, and its only container. */
export function workload(objects: KubernetesObject[], name: string) {
  const deployment = find(objects, 'Deployment', name);
  const template = (deployment.spec as { template: { metadata: KubernetesObject['metadata']; spec: PodSpec } }).template;
  if (template.spec.containers.length !== 1) throw new Error(`${name}: expected one container`);
  return { deployment, template, pod: template.spec, container: template.spec.containers[0] };
}

/**
 * The environment a container gets: its ConfigMaps' data (envFrom) overlaid by its literal
 * `env` values, as the kubelet builds it; and, apart, the variables it takes from Secrets.
 */
export function containerEnvironment(objects: KubernetesObject[], container: Container) {
  const values: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef) throw new Error(`${container.name}: only ConfigMaps may feed envFrom`);
    Object.assign(values, find(objects, 'ConfigMap', source.configMapRef.name).data as Record<string, string>);
  }
  const fromSecrets: Record<string, { name: string; key: string; optional?: boolean }> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) values[variable.name] = variable.value;
    else if (variable.valueFrom?.secretKeyRef) fromSecrets[variable.name] = variable.valueFrom.secretKeyRef;
    else throw new Error(`${container.name}: ${variable.name} must be a literal value or come from a Secret`);
  }
  return { values, fromSecrets };
}

/** The number of a container port given by name or number. */
export function portNumber(container: Container, port: string | number): number {
  if (typeof port === 'number') return port;
  const found = container.ports?.find((candidate) => candidate.name === port);
  if (!found) throw new Error(`${container.name} has no port named ${port}`);
  return found.containerPort;
}

/** Memory quantities (Ki, Mi, Gi) in MiB. */
export function mebibytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * { Ki: 1 / 1024, Mi: 1, Gi: 1024 }[match[2] as 'Ki' | 'Mi' | 'Gi'];
}
