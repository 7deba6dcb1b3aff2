import { environmentVariableNames, InvalidEnvironmentError, operationTimeouts, redisTarget, validateEnvironment } from '@report-jobs/config';

describe('validateEnvironment', () => {
  it('applies the documented defaults', () => {
    const env = validateEnvironment({});
    expect(redisTarget(env)).toEqual({ mode: 'standalone', url: 'redis://localhost:6379' });
    expect(env).toMatchObject({
      PORT: 3000,
      QUEUE_PREFIX: 'bull',
      QUEUE_SHARDS: 1,
      REDIS_MIN_REPLICAS_ACK: 0,
      TRUST_PROXY: false,
      JOB_ATTEMPTS: 3,
      JOB_BACKOFF_MS: 1000,
      WORKER_CONCURRENCY: 10,
      LOG_LEVEL: 'info',
      SSE_HEARTBEAT_SECONDS: 15,
      SSE_MAX_STREAMS_PER_PRINCIPAL: 100,
    });
    expect(env.PUBLIC_BASE_URL).toBeUndefined();
  });

  it('converts numbers and booleans from their text', () => {
    const env = validateEnvironment({ PORT: '8080', TRUST_PROXY: 'true', JOB_ATTEMPTS: '5', PUBLIC_BASE_URL: 'https://x.example' });
    expect(env).toMatchObject({ PORT: 8080, TRUST_PROXY: true, JOB_ATTEMPTS: 5, PUBLIC_BASE_URL: 'https://x.example' });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PUBLIC_BASE_URL', 'example.com'],
    ['TRUST_PROXY', 'maybe'],
    ['JOB_ATTEMPTS', '0'],
    ['JOB_BACKOFF_MS', '-1'],
    ['WORKER_CONCURRENCY', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['AUTH_FAILURES_PER_MINUTE', '-1'],
    ['AUTH_FAILURES_PER_MINUTE', 'many'],
    ['SSE_HEARTBEAT_SECONDS', '0'],
    ['SSE_HEARTBEAT_SECONDS', '301'],
    ['SSE_MAX_STREAMS_PER_PRINCIPAL', '0'],
    ['SSE_MAX_STREAMS_PER_PRINCIPAL', 'lots'],
  ])('refuses %s=%s and names it', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(InvalidEnvironmentError);
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`${name}="${value.replace(/[.]/g, '\\.')}"`));
  });

  it.each(['localhost:6379', 'http://user:s3cret@localhost:6379'])('refuses REDIS_URL=%s without echoing it (it may hold a password)', (value) => {
    expect(() => validateEnvironment({ REDIS_URL: value })).toThrow(/REDIS_URL=\(hidden\)/);
    expect(() => validateEnvironment({ REDIS_URL: value })).not.toThrow(/s3cret|localhost/);
  });

  it('names every bad variable at once', () => {
    expect(() => validateEnvironment({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT[\s\S]*LOG_LEVEL/);
  });

  it('reads per-operation time limits and refuses unknown operations', () => {
    expect(operationTimeouts(validateEnvironment({ OPERATION_TIMEOUTS: ' rebuild-report = 600 ' }))).toEqual({ 'rebuild-report': 600 });
    expect(operationTimeouts(validateEnvironment({}))).toEqual({});
    expect(() => validateEnvironment({ OPERATION_TIMEOUTS: 'drop-tables=5' })).toThrow(/unknown operation "drop-tables"/);
    expect(() => validateEnvironment({ OPERATION_TIMEOUTS: 'rebuild-report' })).toThrow(/OPERATION_TIMEOUTS/);
  });

  it.each(['0', '86401', '2147483648', '99999999999999999999'])(
    'refuses OPERATION_TIMEOUTS=rebuild-report=%s, outside the bounds of JOB_TIMEOUT_SECONDS, and names it',
    (seconds) => {
      const attempt = () => validateEnvironment({ OPERATION_TIMEOUTS: `rebuild-report=${seconds}` });
      expect(attempt).toThrow(InvalidEnvironmentError);
      expect(attempt).toThrow(/OPERATION_TIMEOUTS.*rebuild-report.*1–86400 seconds/);
    },
  );

  it('accepts OPERATION_TIMEOUTS at the bounds of JOB_TIMEOUT_SECONDS', () => {
    expect(operationTimeouts(validateEnvironment({ OPERATION_TIMEOUTS: 'rebuild-report=1' }))).toEqual({ 'rebuild-report': 1 });
    expect(operationTimeouts(validateEnvironment({ OPERATION_TIMEOUTS: 'rebuild-report=86400' }))).toEqual({ 'rebuild-report': 86_400 });
    expect(() => validateEnvironment({ JOB_TIMEOUT_SECONDS: '86401' })).toThrow(/JOB_TIMEOUT_SECONDS/);
  });

  it('never echoes API keys in its errors', () => {
    expect(() => validateEnvironment({ API_KEYS: 'tenant:tiny' })).toThrow(/API_KEYS=\(hidden\)/);
    expect(() => validateEnvironment({ API_KEYS: 'tenant:tiny' })).not.toThrow(/tiny/);
  });

  it('refuses simulated failures in production', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production', SIMULATED_FAILURES: 'c=1' })).toThrow(/SIMULATED_FAILURES/);
  });

  it('accepts the standard tracing variables', () => {
    const tracing = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_EXPORTER: 'otlp, console',
      OTEL_SERVICE_NAME: 'reports-eu',
      OTEL_SDK_DISABLED: 'FALSE',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    };
    expect(validateEnvironment(tracing)).toMatchObject({ ...tracing, OTEL_TRACES_SAMPLER_ARG: 0.1 });
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http'],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'json'],
    ['OTEL_TRACES_EXPORTER', 'jaeger'],
    ['OTEL_TRACES_EXPORTER', 'otlp,none'],
    ['OTEL_SDK_DISABLED', 'yes'],
    ['OTEL_TRACES_SAMPLER', 'ratio'],
    ['OTEL_TRACES_SAMPLER_ARG', '2'],
    ['OTEL_TRACES_SAMPLER_ARG', 'half'],
  ])('refuses %s=%s, which the tracing SDK would silently ignore', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`${name}="${value}"`));
  });

  it('refuses a malformed collector URL without echoing it (it may hold credentials)', () => {
    expect(() => validateEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:s3cret@4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT=\(hidden\)/);
    expect(() => validateEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:s3cret@4318' })).not.toThrow(/s3cret/);
  });

  it('lists every variable it reads', () => {
    expect(environmentVariableNames()).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL', 'PUBLIC_BASE_URL', 'SIMULATED_FAILURES']));
  });

  describe('the choice of Redis', () => {
    const cluster = { REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000', QUEUE_PREFIX: '{report-jobs}' };
    const sentinel = { REDIS_SENTINELS: 'sentinel-a:26379,sentinel-b:26379', REDIS_SENTINEL_MASTER: 'reports' };

    it('reads a cluster, its seed nodes and the credentials given in them', () => {
      const env = validateEnvironment({
        ...cluster,
        REDIS_CLUSTER_NODES: 'rediss://app:p%40ss@10.0.0.1:7000, 10.0.0.2:7000,[::1]:7002',
        QUEUE_SHARDS: '3',
      });
      expect(redisTarget(env)).toEqual({
        mode: 'cluster',
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 7000 },
          { host: '::1', port: 7002 },
        ],
        credentials: { username: 'app', password: 'p@ss', tls: true },
      });
    });

    it('reads the sentinels and the name of the master', () => {
      expect(redisTarget(validateEnvironment(sentinel))).toEqual({
        mode: 'sentinel',
        sentinels: [
          { host: 'sentinel-a', port: 26379 },
          { host: 'sentinel-b', port: 26379 },
        ],
        masterName: 'reports',
        credentials: { tls: false },
      });
    });

    it.each([
      [{ REDIS_URL: 'redis://r:6379', ...cluster }, /REDIS_URL and REDIS_CLUSTER_NODES are all set/],
      [{ ...cluster, ...sentinel }, /REDIS_CLUSTER_NODES and REDIS_SENTINELS are all set/],
      [{ REDIS_SENTINELS: 'sentinel-a:26379' }, /REDIS_SENTINELS needs REDIS_SENTINEL_MASTER/],
      [{ REDIS_SENTINEL_MASTER: 'reports' }, /REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS/],
      [{ ...cluster, QUEUE_PREFIX: 'bull' }, /QUEUE_PREFIX="bull" has no hash tag/],
      [{ ...cluster, QUEUE_PREFIX: 'x{}' }, /QUEUE_PREFIX="x\{\}" has no hash tag/],
      [{ QUEUE_SHARDS: '3' }, /QUEUE_SHARDS=3 needs REDIS_CLUSTER_NODES/],
      [{ ...cluster, QUEUE_SHARDS: '4', WORKER_CONCURRENCY: '2' }, /WORKER_CONCURRENCY=2 is below QUEUE_SHARDS=4/],
      [{ ...cluster, QUEUE_SHARDS: '65' }, /QUEUE_SHARDS="65"/],
      [{ REDIS_MIN_REPLICAS_ACK: '-1' }, /REDIS_MIN_REPLICAS_ACK="-1"/],
      [{ QUEUE_PREFIX: 'has space' }, /QUEUE_PREFIX/],
    ])('refuses %j, naming what is wrong', (raw, message) => {
      expect(() => validateEnvironment(raw)).toThrow(InvalidEnvironmentError);
      expect(() => validateEnvironment(raw)).toThrow(message);
    });

    it.each([
      ['10.0.0.1', 'is not host:port'],
      ['10.0.0.1:0', 'needs a port between 1 and 65535'],
      ['http://10.0.0.1:7000', 'must use redis:// or rediss://'],
      ['redis://10.0.0.1:7000/2', 'must not name a database'],
      ['redis://a:one@10.0.0.1:7000,redis://a:two@10.0.0.2:7000', 'different users, passwords or schemes'],
    ])('refuses the node list %s without echoing it (it may hold a password)', (list, reason) => {
      const attempt = () => validateEnvironment({ ...cluster, REDIS_CLUSTER_NODES: list });
      expect(attempt).toThrow(`REDIS_CLUSTER_NODES=(hidden): `);
      expect(attempt).toThrow(reason);
      expect(attempt).not.toThrow(/one@|two@/);
    });

    it('lists the new variables for the compose and manifest checks', () => {
      expect(environmentVariableNames()).toEqual(
        expect.arrayContaining(['QUEUE_PREFIX', 'QUEUE_SHARDS', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER', 'REDIS_MIN_REPLICAS_ACK']),
      );
    });
  });
});
