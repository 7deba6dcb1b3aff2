import { ConnectionError, DEFAULT_POLLING_POLICY, NotFoundError, ProblemError, TooManyRequestsError, UnavailableError } from '@report-jobs/client';
import { parseRetryAfter } from '../../libs/client/src/errors';
import { pause, pollDelaySeconds, preferWaitSeconds, transientDelaySeconds } from '../../libs/client/src/polling-policy';

const policy = DEFAULT_POLLING_POLICY;
const problem = (status: number) => ({ type: 'about:blank', title: 't', status, detail: 'd', requestId: 'r' });

describe("the client's polling policy", () => {
  it('waits as Retry-After asks, never under 1 s, and caps absurd values', () => {
    expect(pollDelaySeconds(7, policy)).toBe(7);
    expect(pollDelaySeconds(0, policy)).toBe(1);
    expect(pollDelaySeconds(undefined, policy)).toBe(1);
    expect(pollDelaySeconds(86_400, policy)).toBe(policy.maxRetryAfterSeconds);
  });

  it('asks for Prefer: wait only after a short wait, and never for longer than the wait just honoured', () => {
    expect(preferWaitSeconds(3, policy)).toBe(3);
    expect(preferWaitSeconds(10, policy)).toBe(10);
    expect(preferWaitSeconds(11, policy)).toBeUndefined();
    expect(preferWaitSeconds(30, policy)).toBeUndefined();
    expect(preferWaitSeconds(0, policy)).toBeUndefined();
    expect(preferWaitSeconds(3, { ...policy, maxPreferWaitSeconds: 0 })).toBeUndefined();
  });

  it("retries 503, 429 and lost connections, after the service's Retry-After or with backoff, a bounded number of times", () => {
    expect(transientDelaySeconds(new UnavailableError(problem(503), 5), 1, policy)).toBe(5);
    expect(transientDelaySeconds(new TooManyRequestsError(problem(429), 42), 1, policy)).toBe(42);
    expect(transientDelaySeconds(new UnavailableError(problem(503)), 3, policy)).toBe(4);
    expect(transientDelaySeconds(new ConnectionError('gone'), 1, policy)).toBe(1);
    expect(transientDelaySeconds(new ConnectionError('gone'), 4, policy)).toBe(8);
    expect(transientDelaySeconds(new ConnectionError('gone'), policy.maxTransientRetries + 1, policy)).toBeUndefined();
  });

  it('never retries what a retry cannot fix', () => {
    expect(transientDelaySeconds(new NotFoundError(problem(404)), 1, policy)).toBeUndefined();
    expect(transientDelaySeconds(new ProblemError(problem(400)), 1, policy)).toBeUndefined();
    expect(transientDelaySeconds(new Error('bug'), 1, policy)).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5);
    expect(parseRetryAfter('Thu, 26 Nov 2026 10:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('stops a pause as soon as its signal aborts, with the reason', async () => {
    const abort = new AbortController();
    const reason = new Error('stop');
    const paused = pause(60, abort.signal);
    abort.abort(reason);
    await expect(paused).rejects.toBe(reason);
  });
});
