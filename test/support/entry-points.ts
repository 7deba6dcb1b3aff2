import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
const entry = (script: string) => scripts[script].replace(/^node /, '');

/**
 * Each app's entry point in the build output, relative to the repository root (the image's
 * working directory), as package.json's start scripts run it. Deployment files (compose,
 * Kubernetes) must start the apps with these.
 */
export const ENTRY_POINTS = { api: entry('start:api'), worker: entry('start:worker') } as const;
