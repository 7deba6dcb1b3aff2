import { ProblemException, ServiceUnavailableError } from '../../apps/api/src/http/problem-details';
import type { EventStream } from '../../apps/api/src/reports/event-stream';
import { JobWatch } from '../../apps/api/src/reports/job-watch';
import type { QueueEventsFeed } from '../../apps/api/src/reports/queue-events-feed';
import type { JobStatus } from '../../apps/api/src/reports/report-jobs.service';

/** A feed whose events the test announces itself. */
function fakeFeed() {
  const listeners = new Set<() => void>();
  const feed = {
    subscribe: (_jobId: string, listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as QueueEventsFeed;
  return { feed, announce: () => listeners.forEach((listener) => listener()), listeners };
}

/** Reads the test answers one by one, in the order they were asked. */
function controlledReads() {
  const pending: Array<{ resolve: (status: JobStatus) => void; reject: (error: unknown) => void }> = [];
  return {
    read: () => new Promise<JobStatus>((resolve, reject) => pending.push({ resolve, reject })),
    asked: () => pending.length,
    answer: (status: JobStatus) => pending.shift()!.resolve(status),
    fail: (error: unknown) => pending.shift()!.reject(error),
  };
}

function fakeStream() {
  const offered: JobStatus[] = [];
  let ended = false;
  const stream = { offer: (status: JobStatus) => offered.push(status), end: () => (ended = true) } as unknown as EventStream;
  return { stream, offered, ended: () => ended };
}

const statusAt = (progress: number) => ({ version: { attempt: 1, phase: 1, progress } }) as JobStatus;
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('JobWatch', () => {
  it('reads once per change for all of its streams', async () => {
    const { feed, announce } = fakeFeed();
    const reads = controlledReads();
    const watch = new JobWatch('job-1', reads.read, feed);
    const [a, b] = [fakeStream(), fakeStream()];
    watch.streams.add(a.stream).add(b.stream);

    announce();
    expect(reads.asked()).toBe(1);
    reads.answer(statusAt(1));
    await settle();
    expect(a.offered).toEqual([statusAt(1)]);
    expect(b.offered).toEqual([statusAt(1)]);
  });

  it('reads again after a read during which changes were announced, once, and offers the latest', async () => {
    const { feed, announce } = fakeFeed();
    const reads = controlledReads();
    const watch = new JobWatch('job-1', reads.read, feed);
    const stream = fakeStream();
    watch.streams.add(stream.stream);

    announce();
    announce();
    announce();
    expect(reads.asked()).toBe(1); // one read at a time
    reads.answer(statusAt(1));
    await settle();
    expect(reads.asked()).toBe(1); // the changes announced meanwhile are read once more
    reads.answer(statusAt(3));
    await settle();
    expect(reads.asked()).toBe(0);
    expect(stream.offered).toEqual([statusAt(1), statusAt(3)]);
    expect(watch.changesAnnounced).toBe(3);
  });

  it('ends its streams when the job is gone, and keeps them while Redis is unavailable', async () => {
    const { feed, announce } = fakeFeed();
    const reads = controlledReads();
    const watch = new JobWatch('job-1', reads.read, feed);
    const stream = fakeStream();
    watch.streams.add(stream.stream);

    announce();
    reads.fail(new ServiceUnavailableError('Redis is not connected'));
    await settle();
    expect(stream.ended()).toBe(false);
    watch.refresh(); // the next heartbeat
    reads.fail(new ProblemException(410, 'gone'));
    await settle();
    expect(stream.ended()).toBe(true);
  });

  it('stops listening when closed', () => {
    const { feed, listeners } = fakeFeed();
    const watch = new JobWatch('job-1', controlledReads().read, feed);
    expect(listeners.size).toBe(1);
    watch.close();
    expect(listeners.size).toBe(0);
  });
});
