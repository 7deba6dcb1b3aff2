import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateEnvironment } from '@report-jobs/config';
import { ApiKeyRegistry } from '../../apps/api/src/auth/api-key-registry';
import { runDemoKeyScript } from '../support/demo-key';

// The demo key compose's keygen service makes: random per deployment, made once, never
// printed, and not served when the deployment brings its own keys.
describe('scripts/demo-key.mjs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'report-jobs-demo-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const demoKey = () => readFileSync(join(dir, 'demo-key'), 'utf8').trim();
  const registryWith = (env: Record<string, string>) => ApiKeyRegistry.fromEnvironment(validateEnvironment(env));

  it('makes a random key the API accepts from API_KEYS_FILE, without printing it', () => {
    const output = runDemoKeyScript(dir);
    const key = demoKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(output).not.toContain(key);
    const registry = registryWith({ API_KEYS_FILE: join(dir, 'api-keys') });
    expect(registry.size).toBe(1);
    expect(registry.authenticate(key)).toEqual({ principal: 'demo', admin: false });
    // Readable by the user the API runs as, and by no one else.
    expect(statSync(join(dir, 'demo-key')).mode & 0o777).toBe(0o400);
    expect(statSync(join(dir, 'api-keys')).mode & 0o777).toBe(0o400);
  });

  it('keeps the first key on later runs', () => {
    runDemoKeyScript(dir);
    const first = demoKey();
    runDemoKeyScript(dir);
    expect(demoKey()).toBe(first);
    expect(registryWith({ API_KEYS_FILE: join(dir, 'api-keys') }).authenticate(first)).toBeDefined();
  });

  it('makes a random Grafana admin password once, readable by the Grafana container', () => {
    runDemoKeyScript(dir);
    const password = readFileSync(join(dir, 'grafana-admin-password'), 'utf8').trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(password).not.toBe(demoKey());
    expect(statSync(join(dir, 'grafana-admin-password')).mode & 0o777).toBe(0o444);
    runDemoKeyScript(dir, { SKIP_DEMO_KEY: 'true' });
    expect(readFileSync(join(dir, 'grafana-admin-password'), 'utf8').trim()).toBe(password);
  });

  it('makes another key for another deployment', () => {
    const other = mkdtempSync(join(tmpdir(), 'report-jobs-demo-key-'));
    try {
      runDemoKeyScript(dir);
      runDemoKeyScript(other);
      expect(readFileSync(join(other, 'demo-key'), 'utf8')).not.toBe(readFileSync(join(dir, 'demo-key'), 'utf8'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('serves no demo key when the deployment sets its own API_KEYS', () => {
    runDemoKeyScript(dir);
    const demo = demoKey();
    runDemoKeyScript(dir, { SKIP_DEMO_KEY: 'true' });
    const registry = registryWith({ API_KEYS: 'tenant-a:its-own-key-123', API_KEYS_FILE: join(dir, 'api-keys') });
    expect(registry.size).toBe(1);
    expect(registry.authenticate(demo)).toBeUndefined();
    // Unset again, the same demo key comes back.
    runDemoKeyScript(dir);
    expect(registryWith({ API_KEYS_FILE: join(dir, 'api-keys') }).authenticate(demo)).toBeDefined();
  });
});
