import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));

// The status read (libs/queue/src/job-snapshot.reader.ts) reads BullMQ's keys, hash fields
// and delayed-score encoding directly: a BullMQ upgrade must be a deliberate change, made
// together with a run of test/e2e/job-snapshot.e2e-spec.ts, never a silent range bump.
describe('dependency pins', () => {
  it('pins bullmq to one exact version, the one the lock file installs', () => {
    const wanted = manifest.dependencies.bullmq as string;
    expect(wanted).toMatch(/^\d+\.\d+\.\d+$/);
    expect(lock.packages['node_modules/bullmq'].version).toBe(wanted);
    expect(lock.packages[''].dependencies.bullmq).toBe(wanted);
  });
});
