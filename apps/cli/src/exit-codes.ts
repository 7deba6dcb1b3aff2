import { ConnectionError, GoneError, NotFoundError, ProblemError, TooManyRequestsError, UnavailableError, type StatusPayload } from '@report-jobs/client';

/** The CLI's exit codes (also in `report-jobs --help` and the README). */
export const EXIT = {
  completed: 0,
  failed: 1,
  usage: 2,
  terminated: 3,
  notFoundOrGone: 4,
  unavailable: 5,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  completed (or, for submit, status, cancel, purge and list: done as asked)
  1  the job failed, or the service refused the request for another reason
  2  usage error: bad arguments or options, or fields the service rejected (400, 422)
  3  the job was terminated
  4  no such job (404), or it is gone (410: purged, expired, or already ended for cancel)
  5  service unavailable: no connection, 503, or too many requests (429)`;

/** Exit code for a job's status: how it ended, or 0 while it has not. */
export function exitCodeOfStatus(status: StatusPayload): number {
  if (status.runtimeStatus === 'Failed') return EXIT.failed;
  if (status.runtimeStatus === 'Terminated') return EXIT.terminated;
  return EXIT.completed;
}

/** Exit code for an error a command ended with. */
export function exitCodeOfError(error: unknown): number {
  if (error instanceof NotFoundError || error instanceof GoneError) return EXIT.notFoundOrGone;
  if (error instanceof UnavailableError || error instanceof TooManyRequestsError || error instanceof ConnectionError) return EXIT.unavailable;
  if (error instanceof ProblemError && (error.status === 400 || error.status === 422)) return EXIT.usage;
  return EXIT.failed;
}
