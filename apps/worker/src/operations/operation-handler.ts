import type { ReportJobInput, ReportOperation, ReportResult } from '@report-jobs/contract';

/** What a handler gets besides its input. */
export interface OperationContext {
  /** Fires when the attempt must stop: its time limit passed, or the worker is shutting down. */
  signal: AbortSignal;
  /** Percent done (0–100) and a short message; shown to clients as `customStatus`. */
  reportProgress(percent: number, message: string): Promise<void>;
  /** 1 for the first attempt. */
  attempt: number;
}

/**
 * One class per operation: adding an operation is adding one handler and listing it in
 * OperationsModule. The worker refuses to start when an operation has no handler.
 */
export interface OperationHandler {
  readonly operation: ReportOperation;
  run(input: ReportJobInput, context: OperationContext): Promise<ReportResult>;
}

export const OPERATION_HANDLERS = Symbol('OPERATION_HANDLERS');

/**
 * An error whose message is meant for clients (shown as `lastError`, and as the output of
 * a failed job). Any other error is logged in full and shown only as a generic message.
 * `retryable: false` fails the job at once, without further attempts.
 */
export class OperationError extends Error {
  override name = 'OperationError';
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
  }
}
