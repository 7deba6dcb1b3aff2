/**
 * Which Redis the apps use, as the environment says: one server (REDIS_URL), a master
 * watched by Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_MASTER), or a Redis Cluster
 * (REDIS_CLUSTER_NODES). Exactly one applies; validateEnvironment refuses any other
 * combination, so the functions here may assume a valid environment.
 */

export interface RedisAddress {
  host: string;
  port: number;
}

/** User, password and TLS of the data nodes, as REDIS_URL carries them (redis[s]://user:password@…). */
export interface RedisCredentials {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; sentinels: RedisAddress[]; masterName: string; credentials: RedisCredentials }
  | { mode: 'cluster'; nodes: RedisAddress[]; credentials: RedisCredentials };

export type RedisMode = RedisTarget['mode'];

/** The Redis used when the environment names none. */
export const DEFAULT_REDIS_URL = 'redis://localhost:6379';

/** The variables that choose the Redis; without any of them, DEFAULT_REDIS_URL. */
export interface RedisTargetSettings {
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: string;
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_MASTER?: string;
}

export function redisMode(settings: Pick<RedisTargetSettings, 'REDIS_CLUSTER_NODES' | 'REDIS_SENTINELS'>): RedisMode {
  if (settings.REDIS_CLUSTER_NODES) return 'cluster';
  if (settings.REDIS_SENTINELS) return 'sentinel';
  return 'standalone';
}

export function redisTarget(settings: RedisTargetSettings): RedisTarget {
  switch (redisMode(settings)) {
    case 'cluster':
      return { mode: 'cluster', ...parseAddressList(settings.REDIS_CLUSTER_NODES!) };
    case 'sentinel': {
      const { nodes, credentials } = parseAddressList(settings.REDIS_SENTINELS!);
      return { mode: 'sentinel', sentinels: nodes, masterName: settings.REDIS_SENTINEL_MASTER!, credentials };
    }
    default:
      return { mode: 'standalone', url: settings.REDIS_URL ?? DEFAULT_REDIS_URL };
  }
}

export class InvalidAddressListError extends Error {
  override name = 'InvalidAddressListError';
}

/**
 * Reads `host:port,host:port,…`. An entry may also be written as REDIS_URL is,
 * `redis://user:password@host:port` or `rediss://…` for TLS: user, password and TLS then
 * apply to every node, so the entries that carry them must agree. IPv6 hosts go in
 * brackets (`[::1]:7000`). Throws InvalidAddressListError saying what is wrong, never
 * echoing a password.
 */
export function parseAddressList(text: string): { nodes: RedisAddress[]; credentials: RedisCredentials } {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new InvalidAddressListError('must list at least one host:port');
  const nodes: RedisAddress[] = [];
  const given = new Map<string, RedisCredentials>();
  for (const [i, entry] of entries.entries()) {
    const { address, credentials } = parseEntry(entry, i + 1);
    nodes.push(address);
    if (credentials) given.set(JSON.stringify(credentials), credentials);
  }
  if (given.size > 1) {
    throw new InvalidAddressListError('gives different users, passwords or schemes (redis:// or rediss://) to its nodes');
  }
  return { nodes, credentials: [...given.values()][0] ?? { tls: false } };
}

function parseEntry(entry: string, position: number): { address: RedisAddress; credentials?: RedisCredentials } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new InvalidAddressListError(`entry ${position} is not a valid redis:// or rediss:// URL`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new InvalidAddressListError(`entry ${position} must use redis:// or rediss://`);
    }
    if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
      throw new InvalidAddressListError(`entry ${position} must not name a database or options: Cluster and Sentinel nodes take host:port only`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const credentials: RedisCredentials = { tls: url.protocol === 'rediss:' };
    if (url.username) credentials.username = decodeURIComponent(url.username);
    if (url.password) credentials.password = decodeURIComponent(url.password);
    return { address: { host, port: portOf(url.port, position) }, credentials };
  }
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(entry);
  if (!match) throw new InvalidAddressListError(`entry ${position} is not host:port`);
  return { address: { host: match[1].replace(/^\[(.*)\]$/, '$1'), port: portOf(match[2], position) } };
}

function portOf(text: string, position: number): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidAddressListError(`entry ${position} needs a port between 1 and 65535`);
  }
  return port;
}

/**
 * The hash tag of a key or prefix as Redis Cluster reads it: the text between the first
 * `{` and the first `}` after it, when that is not empty. Keys with the same tag live in
 * the same slot, whatever else they hold.
 */
export function hashTagOf(text: string): string | undefined {
  const open = text.indexOf('{');
  if (open === -1) return undefined;
  const close = text.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return text.slice(open + 1, close);
}
