import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import type { KubernetesObject } from './kustomize';

/**
 * Checks Kubernetes objects against the API's own schemas, as the API server would on
 * `kubectl apply`, with the models of `kubernetes-models` (the Kubernetes OpenAPI schemas)
 * and `@kubernetes-models/keda` (the KEDA CRD's schema), both generated from upstream.
 */

const ROOT = join(__dirname, '..', '..');

/** Where the model of an apiVersion/kind lives, as a package path without extension. */
function modelPath({ apiVersion, kind }: Pick<KubernetesObject, 'apiVersion' | 'kind'>): string {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  // The core group ("v1") sits at the package's top; the others under their group name.
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function assertModelExists(object: KubernetesObject): string {
  const path = modelPath(object);
  if (!existsSync(join(ROOT, 'node_modules', `${path}.js`))) {
    throw new Error(`${object.kind}/${object.metadata.name}: no schema for ${object.apiVersion} ${object.kind}`);
  }
  return path;
}

/**
 * Validates one object with its model's JSON-schema validator: types, formats, enums and
 * required fields. Throws the validator's message (e.g. "data/spec/replicas must be integer").
 * These schemas accept fields they do not define (unknownFields covers that).
 */
export async function validateAgainstSchema(object: KubernetesObject): Promise<void> {
  const module = (await import(assertModelExists(object))) as Record<string, new (data: unknown) => { validate(): void }>;
  new module[object.kind](object).validate();
}

/**
 * Fields the schemas do not define, anywhere in the objects: the API server rejects them
 * (kubectl's default field validation is strict), while the JSON-schema validators above
 * let them through. The models' TypeScript types are generated from the same schemas, so
 * the type checker's excess-property check finds them: each object becomes an object
 * literal typed with its model's interface. Returns one message per unknown field.
 */
export function unknownFields(objects: KubernetesObject[]): string[] {
  const file = join(ROOT, 'kubernetes-manifests.check.mts');
  const imports = objects.map((object, i) => `import type { I${object.kind} as T${i} } from '${assertModelExists(object)}';`);
  const literals = objects.map((object, i) => `export const object${i}: T${i} = ${JSON.stringify(object)};`);
  const source = [...imports, ...literals].join('\n');

  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);

  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line : -1;
    const object = objects[line - imports.length];
    return object ? `${object.kind}/${object.metadata.name}: ${message}` : message;
  });
}
