import { hash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Environment } from '@report-jobs/config';
import { ANONYMOUS, type Caller } from '../http/caller';

interface RegisteredKey {
  digest: Buffer;
  caller: Caller;
}

// The one-shot hash: a Hash object per request cost more than the digest itself.
const digestOf = (key: string) => hash('sha256', key, 'buffer');

/**
 * The API keys the deployment accepts, from API_KEYS, API_KEYS_FILE and ADMIN_API_KEYS.
 * Keys are kept only as SHA-256 digests and a presented key is compared with every one of
 * them in constant time, so neither timing nor a memory dump gives a key away.
 */
export class ApiKeyRegistry {
  private constructor(
    private readonly keys: RegisteredKey[],
    readonly allowAnonymous: boolean,
  ) {}

  static fromEnvironment(env: Environment): ApiKeyRegistry {
    const clientPairs = [env.API_KEYS ?? '', env.API_KEYS_FILE ? readKeyFile(env.API_KEYS_FILE) : ''].join(',');
    const keys = [
      ...parsePairs(clientPairs, 'API_KEYS').map(([principal, key]) => ({ digest: digestOf(key), caller: { principal, admin: false } })),
      ...parsePairs(env.ADMIN_API_KEYS ?? '', 'ADMIN_API_KEYS').map(([principal, key]) => ({ digest: digestOf(key), caller: { principal, admin: true } })),
    ];
    if (keys.some((entry) => entry.caller.principal === ANONYMOUS.principal)) {
      throw new Error(`"${ANONYMOUS.principal}" is reserved for callers without a key; name the principal otherwise`);
    }
    const digests = new Set(keys.map((entry) => entry.digest.toString('hex')));
    if (digests.size !== keys.length) throw new Error('The same API key is configured twice');
    if (keys.length === 0 && !env.ALLOW_ANONYMOUS) {
      throw new Error('No API keys configured: set API_KEYS (or API_KEYS_FILE), or ALLOW_ANONYMOUS=true to serve without keys');
    }
    return new ApiKeyRegistry(keys, env.ALLOW_ANONYMOUS);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The caller a presented key belongs to, or undefined. */
  authenticate(presented: string): Caller | undefined {
    const digest = digestOf(presented);
    let found: Caller | undefined;
    for (const entry of this.keys) {
      // No early exit: every key is compared, whatever matched.
      if (timingSafeEqual(entry.digest, digest)) found = entry.caller;
    }
    return found;
  }
}

function readKeyFile(path: string): string {
  try {
    // Comments are whole lines, dropped before the pairs are split at commas.
    return readFileSync(path, 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#')).join(',');
  } catch (error) {
    throw new Error(`API_KEYS_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${path}`);
  }
}

function parsePairs(list: string, source: string): Array<[string, string]> {
  return list
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const match = /^([A-Za-z0-9._-]{1,64}):([^\s,:]{8,256})$/.exec(pair);
      if (!match) throw new Error(`${source}: an entry is not principal:key with a key of 8–256 characters`);
      return [match[1], match[2]];
    });
}
