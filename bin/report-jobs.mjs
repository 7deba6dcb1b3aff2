#!/usr/bin/env node
// The report-jobs command (package.json "bin"): runs the CLI that npm run build compiles.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/apps/cli/apps/cli/src/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('report-jobs: the CLI is not built yet; run npm run build first.\n');
  process.exit(2);
}
await import(main);
