/**
 * The record left where a job was once it is removed: it lets the status URL answer
 * 410 Gone (rather than 404) and lets an Idempotency-Key keep standing for the job,
 * for JOB_GONE_RETENTION_SECONDS. Only the scripts of job-lifecycle.ts write it, with
 * the Lua below; this module is the one place that knows its fields.
 */

export type GoneKind = 'purged' | 'expired';

/** What is left of a job that is no longer in the queue. */
export interface GoneRecord {
  id: string;
  kind: GoneKind;
  /** When the job was purged or expired, epoch ms. */
  at: number;
  /** The principal the job belonged to. */
  owner?: string;
  /** The request fingerprint of a job created with an Idempotency-Key. */
  requestFingerprint?: string;
}

/**
 * Lua helpers shared by the scripts that remove a job. `jobFacts` reads, from the job's
 * stored data, what outlives the job: its owner and its request fingerprint.
 * `leaveGoneRecord` replaces whatever record was there with a fresh one and its TTL.
 */
export const GONE_RECORD_LUA = `
local function jobFacts(rawData)
  if not rawData then return nil, nil end
  local ok, data = pcall(cjson.decode, rawData)
  if not ok or type(data) ~= 'table' then return nil, nil end
  local owner = type(data.owner) == 'string' and data.owner or nil
  local fingerprint = type(data.requestFingerprint) == 'string' and data.requestFingerprint or nil
  return owner, fingerprint
end

local function leaveGoneRecord(goneKey, kind, at, owner, fingerprint, ttlMs)
  local fields = {'kind', kind, 'at', at}
  if owner then table.insert(fields, 'owner'); table.insert(fields, owner) end
  if fingerprint then table.insert(fields, 'requestFingerprint'); table.insert(fields, fingerprint) end
  redis.call('DEL', goneKey)
  redis.call('HSET', goneKey, unpack(fields))
  redis.call('PEXPIRE', goneKey, ttlMs)
end
`;

/** Decodes a record from its hash, as HGETALL returns it (field, value, …). */
export function decodeGoneRecord(id: string, flat: string[]): GoneRecord {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i], flat[i + 1]);
  const at = Number.parseInt(hash.get('at') ?? '', 10);
  return {
    id,
    // Records written before 'purged' and 'expired' were the only kinds read as expired.
    kind: hash.get('kind') === 'purged' ? 'purged' : 'expired',
    at: Number.isFinite(at) ? at : 0,
    owner: hash.get('owner') || undefined,
    requestFingerprint: hash.get('requestFingerprint') || undefined,
  };
}
