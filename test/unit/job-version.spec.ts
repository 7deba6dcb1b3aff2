import { mapJobState } from '@report-jobs/contract';
import type { JobSnapshot } from '@report-jobs/queue';
import { compareVersions, formatVersion, jobVersion, parseVersion } from '../../apps/api/src/reports/job-version';

const T0 = Date.parse('2026-11-26T10:00:00.250Z');
const queued: JobSnapshot = {
  id: 'job-1',
  state: 'waiting',
  data: {},
  timestamp: T0,
  attemptsMade: 0,
  attemptsStarted: 0,
  maxAttempts: 3,
  progress: 0,
  returnValue: undefined,
};

const versionOf = (snapshot: JobSnapshot) =>
  formatVersion(
    jobVersion(
      snapshot,
      mapJobState(snapshot.state, Math.max(snapshot.attemptsStarted, snapshot.attemptsMade), {
        endedByTermination: snapshot.terminated !== undefined,
      })!,
    ),
  );

const report = (sequence: number, updatedAt: number) => ({ progress: sequence * 20, message: '', updatedAt, sequence });

/** The versions of a life, in order; each must be newer than the one before. */
function expectEachNewer(life: JobSnapshot[]): string[] {
  const versions = life.map(versionOf);
  for (let i = 1; i < versions.length; i++) {
    expect(compareVersions(parseVersion(versions[i])!, parseVersion(versions[i - 1])!)).toBeGreaterThan(0);
  }
  return versions;
}

describe('jobVersion', () => {
  it('moves forward through attempts, progress reports, retries and the end', () => {
    const firstStart = { ...queued, state: 'active' as const, attemptsStarted: 1, processedOn: T0 + 10 };
    const retryWait = { ...firstStart, state: 'delayed' as const, attemptsMade: 1, progress: report(2, T0 + 2000), failedReason: 'boom' };
    // The second attempt starts with the first one's progress still on the job: history.
    const secondStart = { ...retryWait, state: 'active' as const, attemptsStarted: 2, processedOn: T0 + 5000 };
    const versions = expectEachNewer([
      queued,
      firstStart,
      { ...firstStart, progress: report(1, T0 + 1000) },
      { ...firstStart, progress: report(2, T0 + 1000) }, // the same millisecond: told apart by the number
      retryWait,
      secondStart,
      { ...secondStart, progress: report(1, T0 + 6000) },
      { ...secondStart, state: 'completed', attemptsMade: 2, finishedOn: T0 + 7000, progress: report(5, T0 + 7000) },
    ]);
    expect(versions).toEqual(['0.0.0', '1.1.0', '1.1.1', '1.1.2', '1.2.0', '2.1.0', '2.1.1', '2.3.0']);
  });

  it('leaves the version alone when only a queue detail changes between attempts', () => {
    const retryWait = { ...queued, state: 'delayed' as const, attemptsStarted: 1, attemptsMade: 1 };
    expect(versionOf({ ...retryWait, state: 'waiting' })).toBe(versionOf(retryWait));
  });

  it('moves forward when a crashed attempt is requeued and run again', () => {
    const running = { ...queued, state: 'active' as const, attemptsStarted: 1, processedOn: T0, progress: report(3, T0 + 3000) };
    expectEachNewer([running, { ...running, state: 'waiting' }, { ...running, attemptsStarted: 2, processedOn: T0 + 20_000 }]);
  });

  it('ends newer than any state before, whether the job was terminated while queued or between attempts', () => {
    const terminated = { terminated: { reason: 'no', at: T0 } };
    expectEachNewer([queued, { ...queued, ...terminated, state: 'failed', finishedOn: T0 }]);
    const retryWait = { ...queued, state: 'delayed' as const, attemptsStarted: 2, attemptsMade: 2 };
    expectEachNewer([retryWait, { ...retryWait, ...terminated, state: 'failed', finishedOn: T0 }]);
  });

  it('orders progress a worker did not number by its time', () => {
    const running = { ...queued, state: 'active' as const, attemptsStarted: 1, processedOn: T0 };
    const unnumbered = (updatedAt: number) => ({ ...running, progress: { progress: 10, message: '', updatedAt } });
    expectEachNewer([running, unnumbered(T0 + 1000), unnumbered(T0 + 2000), { ...running, state: 'completed', finishedOn: T0 + 3000 }]);
  });
});

describe('event ids', () => {
  it('read back the version they were written from', () => {
    const version = { attempt: 12, phase: 1, progress: 345 };
    expect(parseVersion(formatVersion(version))).toEqual(version);
  });

  it.each(['', 'abc', '1.4.0', '1.1', '1.1.1.1', '-1.1.1', '1.1.x', '1e3.1.1', '1234567890.1.1'])('refuse %j, which this API never sends', (text) => {
    expect(parseVersion(text)).toBeUndefined();
  });

  it('compare attempt first, then phase, then progress', () => {
    const order = ['0.0.0', '0.3.0', '1.1.0', '1.1.9', '1.1.10', '1.2.0', '2.1.0', '10.1.0'].map((text) => parseVersion(text)!);
    for (let i = 1; i < order.length; i++) expect(compareVersions(order[i], order[i - 1])).toBeGreaterThan(0);
  });
});
