import { TimeoutError, withTimeout } from '@report-jobs/queue';

/** A promise settled by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('answers what the promise answers when it settles in time, and leaves no timer behind', async () => {
    const answer = deferred<string>();
    const limited = withTimeout(answer.promise, 1000, 'too slow');
    await jest.advanceTimersByTimeAsync(999);
    answer.resolve('counts');
    await expect(limited).resolves.toBe('counts');
    expect(jest.getTimerCount()).toBe(0);
  });

  it("passes the promise's own rejection through", async () => {
    const answer = deferred<string>();
    const limited = withTimeout(answer.promise, 1000, 'too slow');
    answer.reject(new Error('connection lost'));
    await expect(limited).rejects.toThrow('connection lost');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects with a TimeoutError carrying the message once the time is up, and not before', async () => {
    const answer = deferred<string>();
    const limited = withTimeout(answer.promise, 1000, 'Redis did not answer in time');
    let settled = false;
    void limited.catch(() => undefined).finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    // An answer that comes too late changes nothing.
    answer.resolve('late');
    await expect(limited).rejects.toBeInstanceOf(TimeoutError);
    await expect(limited).rejects.toMatchObject({ name: 'TimeoutError', message: 'Redis did not answer in time' });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('says how long it waited when given no message', async () => {
    const limited = withTimeout(new Promise<never>(() => undefined), 250);
    const settled = expect(limited).rejects.toThrow('no answer within 250 ms');
    await jest.advanceTimersByTimeAsync(250);
    await settled;
  });
});
