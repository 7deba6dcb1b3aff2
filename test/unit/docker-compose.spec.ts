import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { environmentVariableNames, validateEnvironment } from '@report-jobs/config';
import { ApiKeyRegistry } from '../../apps/api/src/auth/api-key-registry';
import { ENTRY_POINTS } from '../support/entry-points';

// docker compose cannot run everywhere the tests run, so the compose file is checked
// against the apps' real configuration instead.
const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
}
const services = compose.services as Record<string, Service>;

/** Compose values like ${LOG_LEVEL:-info} resolve to their default when unset. */
const resolveDefaults = (environment: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, String(value).replace(/^\$\{\w+:-(.*)\}$/, '$1')]),
  );

describe('docker-compose.yml', () => {
  it('runs redis, the api and the worker', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'redis', 'worker']);
  });

  it.each(['api', 'worker'])('%s sets only variables the apps read, with valid defaults', (name) => {
    const environment = services[name].environment ?? {};
    const known = environmentVariableNames();
    expect(Object.keys(environment).filter((variable) => !known.includes(variable))).toEqual([]);
    expect(() => validateEnvironment(resolveDefaults(environment))).not.toThrow();
    expect(environment.REDIS_URL).toBe('redis://redis:6379');
  });

  it('gives the API a key to start with (it refuses to start without one)', () => {
    const env = validateEnvironment(resolveDefaults(services.api.environment!));
    expect(ApiKeyRegistry.fromEnvironment(env).size).toBeGreaterThan(0);
  });

  it('starts each app with the entry point npm run build produces', () => {
    expect(services.api.command).toEqual(['node', ENTRY_POINTS.api]);
    expect(services.worker.command).toEqual(['node', ENTRY_POINTS.worker]);
  });

  it('gives every service a health check, on the port that app really serves', () => {
    for (const service of Object.values(services)) expect(service.healthcheck?.test.length).toBeGreaterThan(1);
    expect(services.redis.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    const apiPort = validateEnvironment(resolveDefaults(services.api.environment!)).PORT;
    const workerPort = validateEnvironment(resolveDefaults(services.worker.environment!)).WORKER_HEALTH_PORT;
    expect(services.api.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${apiPort}/health/ready`);
    expect(services.worker.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${workerPort}/health/ready`);
  });

  it('starts the apps only once Redis is healthy', () => {
    for (const name of ['api', 'worker']) {
      expect(services[name].depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
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

  it('builds both apps from the repository Dockerfile: Node 24, non-root, production deps', () => {
    expect(services.api.build).toBe('.');
    expect(services.worker.build).toBe('.');
    expect(services.api.image).toBe(services.worker.image);
    expect(dockerfile).toMatch(/^FROM node:24\S* AS build$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
