/**
 * What a failed Redis command means for the request that issued it. Only an outage is a
 * 503: a command Redis never received or answered, or one it refused for a passing
 * reason. Anything else (a key of the wrong type, a cross-slot command, a script error, a
 * bug) is not fixed by retrying, so it must not hide behind "try again later".
 *
 * - `not-sent`: the command never reached Redis (not connected, socket not writable,
 *   connection refused); it did nothing.
 * - `refused`: Redis answered that it cannot serve now (loading, busy, read-only
 *   replica, cluster down, out of memory, …) and did not execute the command.
 * - `no-answer`: the command was sent and no answer came (timeout, connection lost):
 *   Redis may have executed it.
 * - `unexpected`: anything else.
 */
export type RedisFailure = 'not-sent' | 'refused' | 'no-answer' | 'unexpected';

/**
 * Replies by which Redis says "not now": the command was not executed and may succeed
 * later. OOM (maxmemory reached under noeviction) and MISCONF (persistence failing) refuse
 * writes until an operator acts, which is an outage to clients, not a fault of theirs.
 */
const TRANSIENT_REPLIES = new Set([
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'READONLY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'NOREPLICAS',
  'OOM',
  'MISCONF',
]);

/** No connection to the node a command must go to (on a cluster, the master of its slot): nothing was sent. */
export class NodeUnreachableError extends Error {
  override name = 'NodeUnreachableError';
}

/** Messages and names of ioredis' client-side errors, by what they mean. */
const NOT_SENT_MESSAGES = [
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  'None of startup nodes is available',
  'Cluster is disconnected.',
  'Cluster is ended.',
  'Node is disconnected',
  'Failed to refresh slots cache.',
];
/**
 * A cluster client gives up after too many redirections or retries (a master failing over,
 * the cluster down), naming the last error: the command did nothing if Redis refused it
 * each time (CLUSTERDOWN, TRYAGAIN); otherwise a connection may have dropped after it was sent.
 */
const REDIRECTIONS_PREFIX = 'Too many Cluster redirections. Last error: ';
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * "Connection is closed." also ends commands that were sent when the connection dropped;
 * "Command aborted due to connection close" ends the rest of a pipeline whose first
 * replies came back before it dropped (auto-pipelining mixes several requests' commands).
 */
const NO_ANSWER_MESSAGES = ['Command timed out', 'Connection is closed.', 'Socket timeout.', 'Command aborted due to connection close'];
const NO_ANSWER_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  previousErrors?: unknown;
}

export function classifyRedisError(error: unknown): RedisFailure {
  if (typeof error !== 'object' || error === null) return 'unexpected';
  const { name, message, code, previousErrors } = error as ErrorLike;
  const text = typeof message === 'string' ? message : '';
  // A transaction aborted by an earlier error (EXECABORT) fails for that error's reason.
  if (Array.isArray(previousErrors) && previousErrors.length > 0) return classifyRedisError(previousErrors[0]);
  if (name === 'ReplyError') return TRANSIENT_REPLIES.has(text.split(/\s/, 1)[0]) ? 'refused' : 'unexpected';
  if (name === 'MaxRetriesPerRequestError') return 'no-answer';
  if (name === 'ClusterAllFailedError' || name === 'NodeUnreachableError') return 'not-sent';
  if (text.startsWith(REDIRECTIONS_PREFIX)) {
    const last = text.slice(REDIRECTIONS_PREFIX.length).replace(/^ReplyError: /, '');
    return TRANSIENT_REPLIES.has(last.split(/\s/, 1)[0]) ? 'refused' : 'no-answer';
  }
  if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return 'not-sent';
  if (typeof code === 'string' && NO_ANSWER_CODES.has(code)) return 'no-answer';
  if (NOT_SENT_MESSAGES.some((known) => text.startsWith(known))) return 'not-sent';
  if (NO_ANSWER_MESSAGES.some((known) => text.startsWith(known))) return 'no-answer';
  return 'unexpected';
}

/** True for an outage (503), false for an error retrying cannot fix (500). */
export function isRedisUnavailable(error: unknown): boolean {
  return classifyRedisError(error) !== 'unexpected';
}
