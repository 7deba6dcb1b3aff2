import { mapJobState, type QueueJobState } from '@report-jobs/contract';

describe('mapJobState', () => {
  const table: Array<[QueueJobState, number, boolean, string | null, number | null, boolean | null]> = [
    // state, attemptsStarted, flag, runtimeStatus, http, inProgress
    ['waiting', 0, false, 'Pending', 202, true],
    ['prioritized', 0, false, 'Pending', 202, true],
    ['delayed', 0, false, 'Pending', 202, true],
    ['waiting-children', 0, false, 'Pending', 202, true],
    ['active', 1, false, 'Running', 202, true],
    ['active', 1, true, 'Running', 202, true],
    // Between attempts (backoff, or requeued after a crashed worker): still Running.
    ['delayed', 1, false, 'Running', 202, true],
    ['waiting', 2, false, 'Running', 202, true],
    ['prioritized', 1, false, 'Running', 202, true],
    ['completed', 1, false, 'Completed', 200, false],
    ['completed', 3, true, 'Completed', 200, false],
    ['failed', 3, false, 'Failed', 200, false],
    ['failed', 3, true, 'Failed', 500, false],
    ['unknown', 0, false, null, null, null],
  ];

  it('shows a failed job that ended by termination as Terminated, never as a 500', () => {
    const options = { returnInternalServerErrorOnFailure: true, endedByTermination: true };
    expect(mapJobState('failed', 1, options)).toEqual({ runtimeStatus: 'Terminated', httpStatus: 200, inProgress: false });
    expect(mapJobState('failed', 0, options)).toEqual({ runtimeStatus: 'Terminated', httpStatus: 200, inProgress: false });
    // A failed job that did not end by termination is Failed, whatever was requested of it.
    expect(mapJobState('failed', 1, { returnInternalServerErrorOnFailure: true })?.runtimeStatus).toBe('Failed');
  });

  it.each(table)('%s after %d started attempts (500-on-failure %s) → %s %s', (state, started, flag, runtimeStatus, http, inProgress) => {
    const mapping = mapJobState(state, started, { returnInternalServerErrorOnFailure: flag });
    if (runtimeStatus === null) {
      expect(mapping).toBeNull();
    } else {
      expect(mapping).toEqual({ runtimeStatus, httpStatus: http, inProgress });
    }
  });
});
