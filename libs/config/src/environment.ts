import { isIP } from 'node:net';
import { plainToInstance, Transform } from 'class-transformer';
import { isReportOperation } from '@report-jobs/contract';
import { hashTagOf, InvalidAddressListError, parseAddressList, redisMode } from './redis-target';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

const toBoolean = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  return value;
};
const toInteger = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
};
const toOptionalString = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** Bounds of one attempt's time limit, JOB_TIMEOUT_SECONDS and OPERATION_TIMEOUTS alike (timers overflow past 2^31 ms). */
const ATTEMPT_TIMEOUT_SECONDS = { min: 1, max: 86_400 };
const toOptionalNumber = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
};
const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'];
const OTEL_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];
/** principal:whsec_<base64> pairs separated by commas (Standard Webhooks' secret format). */
const WEBHOOK_SECRET_LIST = /^\s*[A-Za-z0-9._-]{1,64}:whsec_[A-Za-z0-9+/=]+\s*(,\s*[A-Za-z0-9._-]{1,64}:whsec_[A-Za-z0-9+/=]+\s*)*$/;
/** Standard Webhooks: a signing secret is 24 to 64 random bytes. */
const WEBHOOK_SECRET_BYTES = { min: 24, max: 64 };
/**
 * Delays between a delivery's attempts: Standard Webhooks' example schedule (5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h) and one more 10 h, so the 8th and last attempt comes about 27½ hours
 * after the first: a day, give or take the receiver's time zone.
 */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
const WEBHOOK_RETRY_BOUNDS = { maxRetries: 20, maxDelayMs: 86_400_000 };
/** principal:key pairs separated by commas; principals and keys without spaces, commas or colons. */
const KEY_LIST = /^\s*[A-Za-z0-9._-]{1,64}:[^\s,:]{8,256}\s*(,\s*[A-Za-z0-9._-]{1,64}:[^\s,:]{8,256}\s*)*$/;

/**
 * Every environment variable either app reads, with its default. Both apps validate the
 * whole set at boot and refuse to start on a bad value, naming it.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  /** Port of the HTTP API. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  /** Interface the API listens on. */
  @IsString()
  HOST = '0.0.0.0';

  /**
   * One Redis server. Without a default here (DEFAULT_REDIS_URL applies when no mode is
   * set), so that a value seen is one given, and can be told apart from REDIS_CLUSTER_NODES
   * or REDIS_SENTINELS given beside it.
   */
  @Transform(toOptionalString)
  @IsOptional()
  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL?: string;

  /**
   * Seed nodes of a Redis Cluster, `host:port,host:port,…`; entries may be written as
   * REDIS_URL is (redis[s]://user:password@host:port) to give user, password and TLS.
   */
  @Transform(toOptionalString)
  @IsOptional()
  @IsString()
  REDIS_CLUSTER_NODES?: string;

  /** Sentinels watching the master, `host:port,…` (entries as for REDIS_CLUSTER_NODES). */
  @Transform(toOptionalString)
  @IsOptional()
  @IsString()
  REDIS_SENTINELS?: string;

  /** The name under which the sentinels know the master (`sentinel monitor <name> …`). */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,128}$/, { message: 'REDIS_SENTINEL_MASTER must be 1 to 128 characters of A-Z a-z 0-9 . _ -' })
  REDIS_SENTINEL_MASTER?: string;

  /**
   * BullMQ's key prefix. On a Redis Cluster it must hold a hash tag (`{report-jobs}`), so
   * that each queue's keys share a slot. Changing it strands the jobs stored under the old one.
   */
  @Matches(/^[^\s]{1,64}$/, { message: 'QUEUE_PREFIX must be 1 to 64 characters without spaces' })
  QUEUE_PREFIX = 'bull';

  /**
   * Number of queues the jobs are spread over, each on its own slot (and so master) of a
   * Redis Cluster. Fixed for a deployment: the apps refuse to start with another count
   * than the one recorded in Redis.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(64)
  QUEUE_SHARDS = 1;

  /**
   * When above 0, a job is acknowledged (202) only once this many replicas have it
   * (Redis WAIT, for up to REPLICA_ACK_TIMEOUT_MS); otherwise the API answers 503 saying
   * the job may exist.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(16)
  REDIS_MIN_REPLICAS_ACK = 0;

  /** Absolute base for the URLs the API hands out, e.g. https://reports.example.com */
  @Transform(toOptionalString)
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  PUBLIC_BASE_URL?: string;

  /** Honour X-Forwarded-Proto/Host (only behind a proxy you control). */
  @Transform(toBoolean)
  @IsBoolean()
  TRUST_PROXY = false;

  /** Attempts per job, the first included. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100)
  JOB_ATTEMPTS = 3;

  /** Base delay of the exponential backoff between attempts. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  JOB_BACKOFF_MS = 1000;

  /** Execution limit of one attempt; past it the job fails without retry. */
  @Transform(toInteger)
  @IsInt()
  @Min(ATTEMPT_TIMEOUT_SECONDS.min)
  @Max(ATTEMPT_TIMEOUT_SECONDS.max)
  JOB_TIMEOUT_SECONDS = 3900;

  /**
   * Per-operation attempt limits overriding JOB_TIMEOUT_SECONDS, e.g. `rebuild-report=600`,
   * each within JOB_TIMEOUT_SECONDS' bounds (checked in validateEnvironment).
   */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(/^\s*[a-z0-9-]+\s*=\s*\d+\s*(,\s*[a-z0-9-]+\s*=\s*\d+\s*)*$/, {
    message: 'OPERATION_TIMEOUTS must look like rebuild-report=600,other-operation=60',
  })
  OPERATION_TIMEOUTS?: string;

  /** A job that waited longer than this for a worker fails when one takes it; 0 means no limit. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  JOB_QUEUE_WAIT_LIMIT_SECONDS = 86_400;

  /** How long finished jobs stay readable. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  JOB_RETENTION_COMPLETED_SECONDS = 86_400;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  JOB_RETENTION_FAILED_SECONDS = 604_800;

  /** After retention or a purge, how long the status URL answers 410 Gone (then 404). */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  JOB_GONE_RETENTION_SECONDS = 604_800;

  /** Longest `Prefer: wait=N` honoured, in seconds; 0 turns waiting off. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(300)
  MAX_PREFER_WAIT_SECONDS = 30;

  /**
   * Seconds between heartbeats (comment lines) on a job's event stream, which keep proxies
   * from closing quiet streams; open streams also re-read their job this often, in case an
   * event of the queue was lost.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(300)
  SSE_HEARTBEAT_SECONDS = 15;

  /** Event streams one principal may hold open on one API process; past it, 429. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100_000)
  SSE_MAX_STREAMS_PER_PRINCIPAL = 100;

  /** Jobs one worker process runs at once. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  WORKER_CONCURRENCY = 10;

  /**
   * How long a worker's lock on a job lasts without renewal (renewed every half of it). A
   * crashed worker's job runs again within 1.5 × this; a handler that blocks the event loop
   * for about half of it makes its job look crashed.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  WORKER_LOCK_DURATION_MS = 10_000;

  /** On SIGTERM, how long active jobs may run on before they are handed back to the queue. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  WORKER_SHUTDOWN_GRACE_MS = 20_000;

  /** Port of the worker's health endpoints (/health/live, /health/ready); 0 turns them off. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_HEALTH_PORT = 3001;

  /**
   * Port of the API's Prometheus endpoint (GET /metrics), a listener apart from the public
   * port and without API keys; 0 turns the API's metrics off, recording included.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT = 9464;

  /**
   * The worker's metrics, served as GET /metrics on WORKER_HEALTH_PORT; false records and
   * serves none (as does WORKER_HEALTH_PORT=0, which leaves nowhere to serve them).
   */
  @Transform(toBoolean)
  @IsBoolean()
  WORKER_METRICS = true;

  /** Retry, clean and remove actions in the queue dashboard (/admin/queues); read-only when false. */
  @Transform(toBoolean)
  @IsBoolean()
  DASHBOARD_ACTIONS = false;

  /**
   * Client API keys as principal:key pairs, e.g. `tenant-a:s3cret,tenant-b:0th3r`. A job
   * belongs to the principal whose key created it.
   */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(KEY_LIST, { message: 'API_KEYS must look like principal:key,principal:key' })
  API_KEYS?: string;

  /** A file holding API_KEYS' pairs (commas or new lines), for secrets mounted as files. */
  @Transform(toOptionalString)
  @IsOptional()
  @IsString()
  API_KEYS_FILE?: string;

  /** Admin keys as principal:key pairs: admins see and manage every principal's jobs. */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(KEY_LIST, { message: 'ADMIN_API_KEYS must look like principal:key,principal:key' })
  ADMIN_API_KEYS?: string;

  /** Serve requests without a key, as the principal "anonymous". Never on by default. */
  @Transform(toBoolean)
  @IsBoolean()
  ALLOW_ANONYMOUS = false;

  /** Job submissions one principal may make per minute; 0 turns the limit off. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  RATE_LIMIT_SUBMITS_PER_MINUTE = 600;

  /** Status reads, listings and other calls one principal may make per minute; 0 turns the limit off. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  RATE_LIMIT_READS_PER_MINUTE = 12_000;

  /**
   * Failed authentications (a wrong key, a malformed Authorization header) one client
   * address may make per minute; past it the address gets 429 whatever it sends. 0 turns
   * the limit off.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  AUTH_FAILURES_PER_MINUTE = 30;

  /** Origins allowed to call the API from browsers (comma-separated, or *); CORS is off when unset. */
  @Transform(toOptionalString)
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  /** Largest accepted request body. */
  @Transform(toInteger)
  @IsInt()
  @Min(256)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 16_384;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = 'info';

  /**
   * Deliberate failures for trying out retries, e.g. `cust-flaky=2,cust-broken=*`: the
   * first 2 attempts of jobs for cust-flaky fail, every attempt for cust-broken fails.
   * Refused when NODE_ENV=production.
   */
  @Transform(toOptionalString)
  @IsOptional()
  @IsString()
  SIMULATED_FAILURES?: string;

  /**
   * Signing secrets of webhooks, per principal: `tenant-a:whsec_…,tenant-b:whsec_…`, each
   * 24–64 bytes in base64. A principal listed twice (while rotating) gets both signatures.
   * Jobs of a principal without one cannot have a callback_url.
   */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(WEBHOOK_SECRET_LIST, { message: 'WEBHOOK_SECRETS must look like principal:whsec_<base64>,principal:whsec_<base64>' })
  WEBHOOK_SECRETS?: string;

  /** Accept http:// callback URLs (local setups and tests); https:// only otherwise. */
  @Transform(toBoolean)
  @IsBoolean()
  WEBHOOK_ALLOW_INSECURE = false;

  /** Accept callback URLs on loopback, private, link-local and other non-public addresses (local setups and tests). */
  @Transform(toBoolean)
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_NETWORKS = false;

  /** Time limit of one delivery attempt, connection to answer. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(30)
  WEBHOOK_TIMEOUT_SECONDS = 10;

  /** Deliveries one worker process makes at once. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100)
  WEBHOOK_CONCURRENCY = 5;

  /**
   * Delays between delivery attempts in ms, e.g. `200,400`, replacing the default schedule
   * (one attempt more than delays); for tests and trials, refused when NODE_ENV=production.
   */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(/^\s*\d{1,9}\s*(,\s*\d{1,9}\s*)*$/, { message: 'WEBHOOK_RETRY_SCHEDULE_MS must look like 200,400,800' })
  WEBHOOK_RETRY_SCHEDULE_MS?: string;

  /**
   * DNS servers that resolve callback hosts, `ip` or `ip:port` (comma-separated), instead of
   * the system's resolver (which also reads /etc/hosts).
   */
  @Transform(toOptionalString)
  @IsOptional()
  @IsString()
  WEBHOOK_DNS_SERVERS?: string;

  // Traces: the standard OpenTelemetry variables, read by its SDK (libs/tracing) and
  // checked here so that a typo stops the app instead of silently turning tracing off.

  /** OTLP collector base URL (…/v1/traces is appended for HTTP); setting it turns tracing on. */
  @Transform(toOptionalString)
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** Full URL for traces only, instead of the base URL above. */
  @Transform(toOptionalString)
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  @Transform(toOptionalString)
  @IsOptional()
  @IsIn(OTLP_PROTOCOLS)
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;

  @Transform(toOptionalString)
  @IsOptional()
  @IsIn(OTLP_PROTOCOLS)
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;

  /** Where spans go: otlp, console, zipkin, or none (tracing off). */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(/^\s*(otlp|console|zipkin|none)\s*(,\s*(otlp|console|zipkin)\s*)*$/, {
    message: 'OTEL_TRACES_EXPORTER must be otlp, console, zipkin (comma-separated) or none',
  })
  OTEL_TRACES_EXPORTER?: string;

  /** Service name on the spans; report-jobs-api / report-jobs-worker by default. */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(/^\S.{0,254}$/, { message: 'OTEL_SERVICE_NAME must be 1 to 255 characters' })
  OTEL_SERVICE_NAME?: string;

  /** true keeps tracing off whatever else is set. */
  @Transform(toOptionalString)
  @IsOptional()
  @Matches(/^\s*(true|false)\s*$/i, { message: 'OTEL_SDK_DISABLED must be true or false' })
  OTEL_SDK_DISABLED?: string;

  @Transform(toOptionalString)
  @IsOptional()
  @IsIn(OTEL_SAMPLERS)
  OTEL_TRACES_SAMPLER?: string;

  /** The ratio of the traceidratio samplers, 0 to 1. */
  @Transform(toOptionalNumber)
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  OTEL_TRACES_SAMPLER_ARG?: number;
}

/** Variables without a default (so absent from `new Environment()`). */
const OPTIONAL_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_MASTER',
  'PUBLIC_BASE_URL',
  'SIMULATED_FAILURES',
  'OPERATION_TIMEOUTS',
  'API_KEYS',
  'API_KEYS_FILE',
  'ADMIN_API_KEYS',
  'CORS_ORIGINS',
  'WEBHOOK_SECRETS',
  'WEBHOOK_RETRY_SCHEDULE_MS',
  'WEBHOOK_DNS_SERVERS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_TRACES_EXPORTER',
  'OTEL_SERVICE_NAME',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
];

/** Never echoed in error messages or logs (a Redis or collector URL may carry a password). */
const SECRET_VARIABLES = [
  'API_KEYS',
  'ADMIN_API_KEYS',
  'WEBHOOK_SECRETS',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
];

export class InvalidEnvironmentError extends Error {
  override name = 'InvalidEnvironmentError';
}

/** Parses and validates the environment; throws one error naming every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const known = Object.fromEntries(
    environmentVariableNames()
      .filter((key) => raw[key] !== undefined)
      .map((key) => [key, raw[key]]),
  );
  const environment = plainToInstance(Environment, known, { exposeDefaultValues: true });
  const errors = validateSync(environment, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map((error) => {
      const value = SECRET_VARIABLES.includes(error.property) ? '(hidden)' : JSON.stringify(raw[error.property]);
      const reasons = Object.values(error.constraints ?? {}).join('; ');
      return `  ${error.property}=${value}: ${reasons}`;
    });
    throw new InvalidEnvironmentError(`Invalid environment:\n${lines.join('\n')}`);
  }
  if (environment.NODE_ENV === 'production' && environment.SIMULATED_FAILURES) {
    throw new InvalidEnvironmentError(
      'Invalid environment:\n  SIMULATED_FAILURES must not be set when NODE_ENV=production',
    );
  }
  if (environment.METRICS_PORT !== 0 && environment.METRICS_PORT === environment.PORT) {
    throw new InvalidEnvironmentError(
      `Invalid environment:\n  METRICS_PORT=${environment.METRICS_PORT} must differ from PORT (metrics are not served on the public port)`,
    );
  }
  const problems = [...operationTimeoutProblems(environment), ...webhookSettingProblems(environment), ...redisProblems(environment)];
  if (problems.length > 0) {
    throw new InvalidEnvironmentError(`Invalid environment:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  }
  return environment;
}

type WebhookSettings = Pick<Environment, 'NODE_ENV' | 'WEBHOOK_SECRETS' | 'WEBHOOK_RETRY_SCHEDULE_MS' | 'WEBHOOK_DNS_SERVERS'>;

/** What is wrong with the webhook settings' values (the secrets themselves are never echoed). */
function webhookSettingProblems(environment: WebhookSettings): string[] {
  const problems: string[] = [];
  const { min, max } = WEBHOOK_SECRET_BYTES;
  for (const [principal, secrets] of webhookSecrets(environment)) {
    if (secrets.some((secret) => secret.length < min || secret.length > max)) {
      problems.push(`WEBHOOK_SECRETS gives ${principal} a secret that is not ${min}–${max} bytes of base64 after whsec_`);
    }
  }
  if (environment.WEBHOOK_RETRY_SCHEDULE_MS !== undefined) {
    const delays = webhookRetryDelays(environment);
    if (environment.NODE_ENV === 'production') problems.push('WEBHOOK_RETRY_SCHEDULE_MS must not be set when NODE_ENV=production');
    if (delays.length > WEBHOOK_RETRY_BOUNDS.maxRetries || delays.some((delay) => delay > WEBHOOK_RETRY_BOUNDS.maxDelayMs)) {
      problems.push(`WEBHOOK_RETRY_SCHEDULE_MS allows at most ${WEBHOOK_RETRY_BOUNDS.maxRetries} delays of at most a day each`);
    }
  }
  for (const server of webhookDnsServers(environment)) {
    if (!isDnsServer(server)) problems.push(`WEBHOOK_DNS_SERVERS: "${server}" is not an IP address with an optional :port`);
  }
  return problems;
}

/**
 * What is wrong with the choice of Redis and of shards: more than one of REDIS_URL,
 * REDIS_CLUSTER_NODES and REDIS_SENTINELS, a Sentinel setting without its pair, a
 * malformed node list, a prefix without a hash tag on a cluster, shards where they buy
 * nothing, fewer worker slots than shards.
 */
function redisProblems(environment: Environment): string[] {
  const problems: string[] = [];
  const chosen = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => environment[name] !== undefined);
  if (chosen.length > 1) {
    problems.push(`${chosen.join(' and ')} are all set: set exactly one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS`);
  }
  if (environment.REDIS_SENTINELS && !environment.REDIS_SENTINEL_MASTER) {
    problems.push('REDIS_SENTINELS needs REDIS_SENTINEL_MASTER, the name the sentinels know the master by');
  }
  if (environment.REDIS_SENTINEL_MASTER && !environment.REDIS_SENTINELS) {
    problems.push('REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS');
  }
  for (const name of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const) {
    const list = environment[name];
    if (!list) continue;
    try {
      parseAddressList(list);
    } catch (error) {
      if (!(error instanceof InvalidAddressListError)) throw error;
      problems.push(`${name}=(hidden): ${error.message}`);
    }
  }
  const mode = redisMode(environment);
  if (mode === 'cluster' && !hashTagOf(environment.QUEUE_PREFIX)) {
    problems.push(
      `QUEUE_PREFIX=${JSON.stringify(environment.QUEUE_PREFIX)} has no hash tag: on a Redis Cluster it must hold one, ` +
        'e.g. {report-jobs}, so that each queue keeps its keys in one slot',
    );
  }
  if (environment.QUEUE_SHARDS > 1 && mode !== 'cluster') {
    problems.push(`QUEUE_SHARDS=${environment.QUEUE_SHARDS} needs REDIS_CLUSTER_NODES: on one master, more queues buy nothing`);
  }
  if (environment.WORKER_CONCURRENCY < environment.QUEUE_SHARDS) {
    problems.push(
      `WORKER_CONCURRENCY=${environment.WORKER_CONCURRENCY} is below QUEUE_SHARDS=${environment.QUEUE_SHARDS}: ` +
        'a worker runs at least one job of each shard at a time',
    );
  }
  return problems;
}

/** `1.2.3.4`, `1.2.3.4:53`, `::1` or `[::1]:53`, as Node's resolver takes them. */
function isDnsServer(server: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(server);
  const v4WithPort = /^([\d.]+)(?::(\d{1,5}))?$/.exec(server);
  const [address, port] = bracketed ? [bracketed[1], bracketed[2]] : v4WithPort ? [v4WithPort[1], v4WithPort[2]] : [server, undefined];
  return isIP(address) !== 0 && (port === undefined || (Number(port) >= 1 && Number(port) <= 65535));
}

/** WEBHOOK_SECRETS as each principal's secrets (raw bytes), in the order given. */
export function webhookSecrets(environment: Pick<Environment, 'WEBHOOK_SECRETS'>): Map<string, Buffer[]> {
  const secrets = new Map<string, Buffer[]>();
  for (const pair of (environment.WEBHOOK_SECRETS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const separator = pair.indexOf(':');
    const principal = pair.slice(0, separator);
    const secret = Buffer.from(pair.slice(separator + 1).replace(/^whsec_/, ''), 'base64');
    secrets.set(principal, [...(secrets.get(principal) ?? []), secret]);
  }
  return secrets;
}

/** The delays between a delivery's attempts, in ms: WEBHOOK_RETRY_SCHEDULE_MS or the default. */
export function webhookRetryDelays(environment: Pick<Environment, 'WEBHOOK_RETRY_SCHEDULE_MS'>): number[] {
  if (environment.WEBHOOK_RETRY_SCHEDULE_MS === undefined) return DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
  return environment.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map((delay) => Number(delay.trim()));
}

/** WEBHOOK_DNS_SERVERS as a list, empty when the system resolver is used. */
export function webhookDnsServers(environment: Pick<Environment, 'WEBHOOK_DNS_SERVERS'>): string[] {
  return (environment.WEBHOOK_DNS_SERVERS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
}

/** What is wrong with OPERATION_TIMEOUTS' entries: unknown operations, limits out of bounds. */
function operationTimeoutProblems(environment: Pick<Environment, 'OPERATION_TIMEOUTS'>): string[] {
  const { min, max } = ATTEMPT_TIMEOUT_SECONDS;
  return Object.entries(operationTimeouts(environment)).flatMap(([name, seconds]) => {
    if (!isReportOperation(name)) return [`OPERATION_TIMEOUTS names unknown operation "${name}"`];
    if (!Number.isSafeInteger(seconds) || seconds < min || seconds > max) {
      return [`OPERATION_TIMEOUTS gives ${name} a limit outside ${min}–${max} seconds`];
    }
    return [];
  });
}

/** OPERATION_TIMEOUTS as a map of operation to seconds. */
export function operationTimeouts(environment: Pick<Environment, 'OPERATION_TIMEOUTS'>): Record<string, number> {
  const entries = (environment.OPERATION_TIMEOUTS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => entry.split('=').map((part) => part.trim()));
  return Object.fromEntries(entries.map(([operation, seconds]) => [operation, Number(seconds)]));
}

/** Names of every variable the apps read (used by the compose check). */
export function environmentVariableNames(): string[] {
  return [...new Set([...Object.keys(new Environment()), ...OPTIONAL_VARIABLES])];
}
