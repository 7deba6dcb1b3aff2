import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { environmentVariableNames, validateEnvironment } from '@report-jobs/config';
import { ApiKeyRegistry } from '../../apps/api/src/auth/api-key-registry';
import { DEMO_KEY_SCRIPT, runDemoKeyScript } from '../support/demo-key';
import { ENTRY_POINTS } from '../support/entry-points';

// docker compose cannot run everywhere the tests run, so the compose file is checked
// against the apps' real configuration instead.
const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** The Dockerfile's last stage: what the image runs with. */
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

interface Service {
  image?: string;
  profiles?: string[];
  volumes?: string[];
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  user?: string;
  security_opt?: string[];
  cap_drop?: string[];
  read_only?: boolean;
}
const services = compose.services as Record<string, Service>;

/**
 * Compose values as they resolve with no variable set: ${LOG_LEVEL:-info} to its default,
 * ${API_KEYS:+true} (a value only when the variable is set) to nothing.
 */
const resolveDefaults = (environment: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      String(value)
        .replace(/^\$\{\w+:-(.*)\}$/, '$1')
        .replace(/^\$\{\w+:\+.*\}$/, ''),
    ]),
  );
/** A volume mount, `volume:path[:ro]`. */
const mountOf = (volume: string) => {
  const [source, target, mode] = volume.split(':');
  return { source, target, readOnly: mode === 'ro' };
};

describe('docker-compose.yml', () => {
  it('runs redis, the api, the worker and the one-shot keygen, and Prometheus and Grafana only with the observability profile', () => {
    const byDefault = Object.keys(services).filter((name) => !services[name].profiles);
    expect(byDefault.sort()).toEqual(['api', 'keygen', 'redis', 'worker']);
    expect(services.prometheus.profiles).toEqual(['observability']);
    expect(services.grafana.profiles).toEqual(['observability']);
    expect(services.prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(services.grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
  });

  it('has Prometheus scrape every replica of each app, by service name, on the port serving its metrics', () => {
    const prometheusConfig = parse(readFileSync(join(ROOT, 'deploy/observability/prometheus.yml'), 'utf8'));
    const jobs = prometheusConfig.scrape_configs as Array<{ dns_sd_configs: Array<{ names: string[]; type: string; port: number }> }>;
    const scraped = (service: string) => jobs.flatMap((job) => job.dns_sd_configs).find((sd) => sd.names.includes(service));
    const api = validateEnvironment(resolveDefaults(services.api.environment!));
    const worker = validateEnvironment(resolveDefaults(services.worker.environment!));
    expect(api.METRICS_PORT).not.toBe(0);
    expect(scraped('api')).toEqual({ names: ['api'], type: 'A', port: api.METRICS_PORT, refresh_interval: '15s' });
    expect(worker.WORKER_METRICS).toBe(true);
    expect(scraped('worker')).toEqual({ names: ['worker'], type: 'A', port: worker.WORKER_HEALTH_PORT, refresh_interval: '15s' });
  });

  it("gives Grafana keygen's random admin password, and publishes the consoles on this machine only", () => {
    const keyVolume = mountOf(services.keygen.volumes![0]);
    const grafanaEnv = services.grafana.environment as Record<string, string>;
    expect(grafanaEnv.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    expect(grafanaEnv.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe(`${keyVolume.target}/grafana-admin-password`);
    expect(services.grafana.volumes!.map(mountOf)).toContainEqual({ ...keyVolume, readOnly: true });
    expect(services.grafana.depends_on).toMatchObject({ keygen: { condition: 'service_completed_successfully' } });
    for (const name of ['prometheus', 'grafana']) {
      for (const port of services[name].ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('mounts observability files that exist', () => {
    const mounted = [...services.prometheus.volumes!, ...services.grafana.volumes!].filter((volume) => volume.startsWith('./'));
    expect(mounted.length).toBeGreaterThanOrEqual(4);
    for (const volume of mounted) expect(existsSync(join(ROOT, volume.split(':')[0]))).toBe(true);
  });

  it.each(['api', 'worker'])('%s sets only variables the apps read, with valid defaults', (name) => {
    const environment = services[name].environment ?? {};
    const known = environmentVariableNames();
    expect(Object.keys(environment).filter((variable) => !known.includes(variable))).toEqual([]);
    expect(() => validateEnvironment(resolveDefaults(environment))).not.toThrow();
    expect(environment.REDIS_URL).toBe('redis://redis:6379');
  });

  describe('the demo key', () => {
    const keygen = services.keygen;
    const apiEnvironment = resolveDefaults(services.api.environment!);
    const keyVolume = mountOf(keygen.volumes![0]);
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'report-jobs-compose-keys-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** The API's configuration with the demo-key volume at `dir`. */
    const apiEnvWithVolumeAt = (extra: Record<string, string> = {}) =>
      validateEnvironment({ ...apiEnvironment, API_KEYS_FILE: apiEnvironment.API_KEYS_FILE.replace(keyVolume.target, dir), ...extra });

    it('is made by keygen running the script the image carries, into a volume the API reads read-only', () => {
      expect(keygen.image).toBe(services.api.image);
      const [node, script, target] = keygen.command!;
      expect(node).toBe('node');
      expect(script).toBe('scripts/demo-key.mjs');
      expect(finalStage).toMatch(/^WORKDIR \/app$/m);
      expect(finalStage).toMatch(/^COPY scripts\/demo-key\.mjs \.\/scripts\/$/m);
      expect(target).toBe(keyVolume.target);
      expect(keyVolume.readOnly).toBe(false);
      expect(compose.volumes).toHaveProperty(keyVolume.source);
      expect(services.api.volumes!.map(mountOf)).toContainEqual({ source: keyVolume.source, target: keyVolume.target, readOnly: true });
      // The volume starts as the image's directory, which the image gives its unprivileged user.
      expect(finalStage).toContain(`mkdir ${keyVolume.target} && chown node:node ${keyVolume.target}`);
      expect(services.api.depends_on).toMatchObject({ keygen: { condition: 'service_completed_successfully' } });
    });

    it('is the only key of a default start, and one the API accepts (it refuses to start without any)', () => {
      runDemoKeyScript(dir, resolveDefaults(keygen.environment!));
      const registry = ApiKeyRegistry.fromEnvironment(apiEnvWithVolumeAt());
      expect(registry.size).toBe(1);
      const key = readFileSync(join(dir, 'demo-key'), 'utf8').trim();
      expect(registry.authenticate(key)).toEqual({ principal: 'demo', admin: false });
    });

    it('is not served when API_KEYS is set', () => {
      // What compose makes of keygen's environment when API_KEYS is set.
      const withOwnKeys = Object.fromEntries(
        Object.entries(keygen.environment!).map(([name, value]) => [name, String(value).replace(/^\$\{API_KEYS:\+(.*)\}$/, '$1')]),
      );
      runDemoKeyScript(dir, withOwnKeys);
      const registry = ApiKeyRegistry.fromEnvironment(apiEnvWithVolumeAt({ API_KEYS: 'tenant-a:own-key-123' }));
      expect(registry.size).toBe(1);
      expect(registry.authenticate(readFileSync(join(dir, 'demo-key'), 'utf8').trim())).toBeUndefined();
    });

    it('sets only what the script reads', () => {
      const read = [...readFileSync(DEMO_KEY_SCRIPT, 'utf8').matchAll(/process\.env\.(\w+)/g)].map((match) => match[1]);
      expect(Object.keys(keygen.environment ?? {}).filter((name) => !read.includes(name))).toEqual([]);
    });

    it('replaces a fixed, publicly known key everywhere', () => {
      expect(apiEnvironment.API_KEYS).toBe('');
      for (const file of ['docker-compose.yml', 'README.md']) {
        expect(readFileSync(join(ROOT, file), 'utf8')).not.toMatch(/demo-key-change-me|demo:[A-Za-z0-9_-]{8,}/);
      }
    });
  });

  it('starts each app with the entry point npm run build produces', () => {
    expect(services.api.command).toEqual(['node', ENTRY_POINTS.api]);
    expect(services.worker.command).toEqual(['node', ENTRY_POINTS.worker]);
  });

  it('gives every long-running service a health check, on the port that app really serves', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'keygen') expect(service.healthcheck).toEqual({ disable: true });
      else expect(service.healthcheck?.test?.length).toBeGreaterThan(1);
    }
    expect(services.redis.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    const apiPort = validateEnvironment(resolveDefaults(services.api.environment!)).PORT;
    const workerPort = validateEnvironment(resolveDefaults(services.worker.environment!)).WORKER_HEALTH_PORT;
    expect(services.api.healthcheck!.test!.join(' ')).toContain(`127.0.0.1:${apiPort}/health/ready`);
    expect(services.worker.healthcheck!.test!.join(' ')).toContain(`127.0.0.1:${workerPort}/health/ready`);
  });

  it('starts the apps only once Redis is healthy (and the API once its key is made)', () => {
    expect(services.api.depends_on).toEqual({
      redis: { condition: 'service_healthy' },
      keygen: { condition: 'service_completed_successfully' },
    });
    expect(services.worker.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
  });

  it('publishes the API on this machine only', () => {
    expect(services.api.ports).toEqual(['127.0.0.1:3000:3000']);
  });

  it.each(Object.keys(services))('runs %s without privileges: no new ones, no capabilities, a read-only root', (name) => {
    const service = services[name];
    expect(service.security_opt).toEqual(['no-new-privileges:true']);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.read_only).toBe(true);
    // Only named volumes are writable; host files (configuration) are mounted read-only.
    for (const volume of service.volumes ?? []) {
      const mount = mountOf(volume);
      if (mount.source.startsWith('./')) expect(mount.readOnly).toBe(true);
      else expect(compose.volumes).toHaveProperty(mount.source);
    }
  });

  it("runs Redis as the image's unprivileged user, so its entrypoint needs no capability to switch", () => {
    expect(services.redis.user).toBe('redis');
    expect(services.redis.volumes!.map(mountOf)).toEqual([{ source: 'redis-data', target: '/data', readOnly: false }]);
  });

  it('keeps the worker scalable: no fixed name, no host port', () => {
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.ports).toBeUndefined();
  });

  it('lets the worker finish active jobs before it is killed', () => {
    const grace = Number(resolveDefaults(services.worker.environment!).WORKER_SHUTDOWN_GRACE_MS);
    expect(Number.parseInt(services.worker.stop_grace_period!, 10) * 1000).toBeGreaterThan(grace);
  });

  it('persists Redis with an append-only file', () => {
    const command = services.redis.command!.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('never lets Redis evict keys (BullMQ would lose jobs)', () => {
    const command = services.redis.command!;
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('builds both apps from the repository Dockerfile: Node 24, non-root, production deps', () => {
    expect(services.api.build).toBe('.');
    expect(services.worker.build).toBe('.');
    expect(services.api.image).toBe(services.worker.image);
    expect(dockerfile).toMatch(/^FROM node:24\S* AS build$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(finalStage).toMatch(/^USER node$/m);
  });

  it("leaves the app's files to root, not writable by the user it runs as", () => {
    const copies = finalStage.split('\n').filter((line) => line.startsWith('COPY '));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).not.toMatch(/--chown|--chmod/);
    // Every COPY comes before the switch to the unprivileged user.
    expect(finalStage.lastIndexOf('\nCOPY ')).toBeLessThan(finalStage.indexOf('\nUSER node'));
  });

  it('ships no package manager in the final image', () => {
    const removed = /^RUN rm -rf ([^&]*)/m.exec(finalStage.replace(/\\\n\s*/g, ''))?.[1].split(/\s+/) ?? [];
    for (const path of ['/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack', '/usr/local/lib/node_modules/npm',
      '/usr/local/lib/node_modules/corepack', '/usr/local/bin/yarn']) {
      expect(removed).toContain(path);
    }
    // No other step of the final stage runs npm.
    const otherSteps = finalStage.split('\n').filter((line) => line.startsWith('RUN ') && !line.startsWith('RUN rm -rf '));
    for (const step of otherSteps) expect(step).not.toMatch(/\bnp[mx]\b/);
  });

  it("checks the API's readiness from the image, on the port it serves", () => {
    const healthcheck = /^HEALTHCHECK .*\n?.*$/m.exec(finalStage.replace(/\\\n\s*/g, ''))?.[0] ?? '';
    expect(healthcheck).toContain('/health/ready');
    expect(healthcheck).toContain('process.env.PORT || 3000');
    expect(finalStage).toMatch(/^CMD \["node", "dist\/apps\/api\/apps\/api\/src\/main\.js"\]$/m);
  });
});
