import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const DEMO_KEY_SCRIPT = join(__dirname, '..', '..', 'scripts', 'demo-key.mjs');

/** Runs scripts/demo-key.mjs as compose's keygen service does, into `dir`; returns its output. */
export function runDemoKeyScript(dir: string, env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, [DEMO_KEY_SCRIPT, dir], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
}
