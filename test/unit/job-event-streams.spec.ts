import type { FastifyReply, FastifyRequest } from 'fastify';
import { validateEnvironment } from '@report-jobs/config';
import type { JobStatus, ReportJobsService } from '../../apps/api/src/reports/report-jobs.service';
import { JobEventStreams } from '../../apps/api/src/reports/job-event-streams';
import type { QueueEventsFeed } from '../../apps/api/src/reports/queue-events-feed';

const caller = { principal: 'tenant', admin: false };
const ended = { version: { attempt: 1, phase: 3, progress: 0 }, mapping: { inProgress: false } } as unknown as JobStatus;
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A feed whose shard reader goes live when the test says so. */
function feedLiveLater() {
  let goLive!: () => void;
  const live = new Promise<void>((resolve) => (goLive = resolve));
  const feed = { whenLive: () => live, subscribe: () => () => undefined } as unknown as QueueEventsFeed;
  return { feed, goLive };
}

describe('JobEventStreams', () => {
  it('reads a job for a new stream only once its events reader is live, so no change falls between', async () => {
    const { feed, goLive } = feedLiveLater();
    const reads: string[] = [];
    const jobs = {
      status: async (instanceId: string) => {
        reads.push(instanceId);
        return ended;
      },
    } as unknown as ReportJobsService;
    const streams = new JobEventStreams(validateEnvironment({}), jobs, feed);
    // An ended job whose final event the client has: answered 204 without a stream.
    const reply = { status: () => reply, send: () => reply } as unknown as FastifyReply;
    const opening = streams.open('job-1', caller, '1.3.0', {} as FastifyRequest, reply);

    await settle();
    expect(reads).toEqual([]);
    goLive();
    await opening;
    expect(reads).toEqual(['job-1']);
  });

  it('does not wait without end for a reader that cannot go live (Redis away at boot)', async () => {
    jest.useFakeTimers();
    try {
      const { feed } = feedLiveLater();
      const jobs = { status: async () => ended } as unknown as ReportJobsService;
      const streams = new JobEventStreams(validateEnvironment({}), jobs, feed);
      const reply = { status: () => reply, send: () => reply } as unknown as FastifyReply;
      let opened = false;
      const opening = streams.open('job-1', caller, '1.3.0', {} as FastifyRequest, reply).then(() => (opened = true));
      await jest.advanceTimersByTimeAsync(2_000);
      await opening;
      expect(opened).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
