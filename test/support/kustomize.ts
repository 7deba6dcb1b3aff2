import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * Renders a kustomization as `kubectl apply -k` would, for the few kustomize features the
 * manifests under deploy/kubernetes use (kustomize itself cannot be installed where the
 * tests run). Any other field fails loudly instead of being ignored, so a rendering can be
 * incomplete only by throwing.
 */

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  patches?: Array<{ path: string; target: { kind: string; name: string } }>;
}

const SUPPORTED_FIELDS = ['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches'];
const CLUSTER_SCOPED_KINDS = ['Namespace'];

/**
 * Parses YAML as Kubernetes does: YAML 1.1 (so `0440` is octal and `yes` a boolean, as the
 * API server would read them), one object per document.
 */
export function parseManifests(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' }).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
    return document.toJS();
  });
}

export function readKustomization(dir: string): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${dir} has no kustomization.yaml`);
  const [kustomization] = parseManifests(file) as Kustomization[];
  const unsupported = Object.keys(kustomization).filter((field) => !SUPPORTED_FIELDS.includes(field));
  if (unsupported.length > 0) throw new Error(`${file}: fields this renderer does not implement: ${unsupported.join(', ')}`);
  if (kustomization.kind !== 'Kustomization') throw new Error(`${file}: kind must be Kustomization`);
  return kustomization;
}

/** YAML files in a kustomization's folder that it neither lists as a resource nor uses as a patch. */
export function unlistedFiles(dir: string): string[] {
  const kustomization = readKustomization(dir);
  const used = new Set([...(kustomization.resources ?? []), ...(kustomization.patches ?? []).map((patch) => patch.path)]);
  return readdirSync(dir).filter((file) => /\.ya?ml$/.test(file) && file !== 'kustomization.yaml' && !used.has(file));
}

export function renderKustomization(dir: string): KubernetesObject[] {
  const kustomization = readKustomization(dir);
  let objects = (kustomization.resources ?? []).flatMap((resource) => loadResource(dir, resource));
  for (const patch of kustomization.patches ?? []) objects = applyPatch(dir, objects, patch);
  if (kustomization.namespace) objects = objects.map((object) => setNamespace(object, kustomization.namespace!));
  for (const image of kustomization.images ?? []) objects = objects.map((object) => setImage(object, image));
  return objects;
}

function loadResource(dir: string, resource: string): KubernetesObject[] {
  const path = resolve(dir, resource);
  if (!existsSync(path)) throw new Error(`${join(dir, 'kustomization.yaml')} lists ${resource}, which does not exist`);
  if (statSync(path).isDirectory()) return renderKustomization(path);
  return parseManifests(path).map((object) => {
    const candidate = object as KubernetesObject;
    if (!candidate?.apiVersion || !candidate.kind || !candidate.metadata?.name) {
      throw new Error(`${path}: every document needs apiVersion, kind and metadata.name`);
    }
    return candidate;
  });
}

/** A JSON 6902 patch (add, replace, remove) on the objects matching its target. */
function applyPatch(dir: string, objects: KubernetesObject[], patch: { path: string; target: { kind: string; name: string } }) {
  const file = join(dir, patch.path);
  const [operations] = parseManifests(file) as Array<Array<{ op: string; path: string; value?: unknown }>>;
  if (!Array.isArray(operations)) throw new Error(`${file}: only JSON 6902 patches (a list of operations) are supported`);
  const matches = (object: KubernetesObject) => object.kind === patch.target.kind && object.metadata.name === patch.target.name;
  if (!objects.some(matches)) throw new Error(`${file}: no ${patch.target.kind} named ${patch.target.name} to patch`);
  return objects.map((object) => {
    if (!matches(object)) return object;
    const patched = structuredClone(object);
    for (const operation of operations) applyOperation(patched, operation, file);
    return patched;
  });
}

function applyOperation(object: KubernetesObject, { op, path, value }: { op: string; path: string; value?: unknown }, file: string) {
  const keys = path.split('/').slice(1).map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = keys.pop()!;
  let parent: unknown = object;
  for (const key of keys) {
    parent = (parent as Record<string, unknown>)?.[key];
    if (parent === undefined) throw new Error(`${file}: ${path} does not exist`);
  }
  const container = parent as Record<string, unknown>;
  const exists = Array.isArray(container) ? Number(last) < container.length : last in container;
  if (op === 'add') {
    if (Array.isArray(container)) container.splice(last === '-' ? container.length : Number(last), 0, value);
    else container[last] = value;
  } else if (op === 'replace' && exists) {
    container[last] = value;
  } else if (op === 'remove' && exists) {
    if (Array.isArray(container)) container.splice(Number(last), 1);
    else delete container[last];
  } else {
    throw new Error(`${file}: cannot ${op} ${path}`);
  }
}

function setNamespace(object: KubernetesObject, namespace: string): KubernetesObject {
  if (CLUSTER_SCOPED_KINDS.includes(object.kind)) return object;
  return { ...object, metadata: { ...object.metadata, namespace } };
}

/** kustomize's images transformer: containers whose image is `name` (with or without a tag). */
function setImage(object: KubernetesObject, image: { name: string; newName?: string; newTag?: string }): KubernetesObject {
  const copy = structuredClone(object);
  for (const container of podContainers(copy)) {
    const [name, tag] = splitImage(container.image);
    if (name !== image.name) continue;
    const newTag = image.newTag ?? tag;
    container.image = `${image.newName ?? name}${newTag ? `:${newTag}` : ''}`;
  }
  return copy;
}

function splitImage(reference: string): [string, string | undefined] {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  return colon > slash ? [reference.slice(0, colon), reference.slice(colon + 1)] : [reference, undefined];
}

/** The containers (and init containers) of a workload's pod template. */
export function podContainers(object: KubernetesObject): Array<{ name: string; image: string } & Record<string, unknown>> {
  const pod = (object.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec;
  if (!pod) return [];
  return [...((pod.initContainers as []) ?? []), ...((pod.containers as []) ?? [])];
}

/** The kustomization folders under `root` (each folder holding a kustomization.yaml). */
export function kustomizationDirs(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (existsSync(join(dir, 'kustomization.yaml'))) found.push(dir);
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return found.sort();
}
