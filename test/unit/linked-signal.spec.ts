import { LinkedSignal } from '../../apps/worker/src/processors/linked-signal';

describe('LinkedSignal', () => {
  it('fires with the reason of the first source that fires, once', () => {
    const cancel = new AbortController();
    const shutdown = new AbortController();
    const linked = new LinkedSignal(cancel.signal, shutdown.signal);
    expect(linked.signal.aborted).toBe(false);
    shutdown.abort('shutting down');
    cancel.abort('terminated');
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('shutting down');
  });

  it('starts aborted when a source already is', () => {
    const done = new AbortController();
    done.abort('already');
    const linked = new LinkedSignal(new AbortController().signal, done.signal);
    expect(linked.signal.reason).toBe('already');
  });

  it('fires on its own abort, as a time limit does, and keeps the first reason', () => {
    const source = new AbortController();
    const linked = new LinkedSignal(source.signal);
    linked.abort('time limit');
    source.abort('later');
    expect(linked.signal.reason).toBe('time limit');
  });

  it('no longer follows its sources once released', () => {
    const source = new AbortController();
    const linked = new LinkedSignal(source.signal);
    linked.release();
    source.abort('after the attempt');
    expect(linked.signal.aborted).toBe(false);
  });
});
