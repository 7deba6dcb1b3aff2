/**
 * How a job's queue state is shown to clients: Durable Functions' `runtimeStatus`
 * vocabulary and the HTTP status of the status endpoint. Pure, so it is tested as a table.
 */

/** The states BullMQ 6 reports for a job, plus 'unknown' for a job that is not there. */
export type QueueJobState =
  | 'waiting'
  | 'prioritized'
  | 'delayed'
  | 'active'
  | 'waiting-children'
  | 'completed'
  | 'failed'
  | 'unknown';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';

export interface StatusMapping {
  runtimeStatus: RuntimeStatus;
  /** HTTP status of GET statusQueryGetUri. */
  httpStatus: 200 | 202 | 500;
  /** True while a client should keep polling (202 with Location and Retry-After). */
  inProgress: boolean;
}

export interface StatusMappingOptions {
  /** Durable's `returnInternalServerErrorOnFailure` query flag. */
  returnInternalServerErrorOnFailure?: boolean;
  /**
   * The job ended by termination (a failed job that was terminated before it ran, or whose
   * running attempt was aborted on a client's request). A request alone is not enough: a
   * job that completes or fails on its own after one keeps its own end.
   */
  endedByTermination?: boolean;
}

/** A job that ended by termination. */
const TERMINATED: StatusMapping = { runtimeStatus: 'Terminated', httpStatus: 200, inProgress: false };

/**
 * @param state the job's queue state
 * @param attemptsStarted attempts a worker has begun. A job back in the queue after an
 *   attempt (waiting for its retry, or requeued after a worker crashed) has
 *   attemptsStarted > 0 and counts as Running, as the contract says.
 * @returns null when the job does not exist
 */
export function mapJobState(
  state: QueueJobState,
  attemptsStarted: number,
  options: StatusMappingOptions = {},
): StatusMapping | null {
  switch (state) {
    case 'unknown':
      return null;
    case 'completed':
      return { runtimeStatus: 'Completed', httpStatus: 200, inProgress: false };
    case 'failed':
      if (options.endedByTermination) return TERMINATED;
      return {
        runtimeStatus: 'Failed',
        httpStatus: options.returnInternalServerErrorOnFailure ? 500 : 200,
        inProgress: false,
      };
    case 'active':
      return { runtimeStatus: 'Running', httpStatus: 202, inProgress: true };
    case 'waiting':
    case 'prioritized':
    case 'delayed':
    case 'waiting-children':
      return attemptsStarted > 0
        ? { runtimeStatus: 'Running', httpStatus: 202, inProgress: true }
        : { runtimeStatus: 'Pending', httpStatus: 202, inProgress: true };
  }
}
