import { isCompleted, isFailed, type FinalStatus, type StatusPayload } from '@report-jobs/client';
import { formatElapsed, ProgressBar, type Terminal } from './progress-bar';

/** Where a command writes: stdout for its output, stderr for errors. */
export interface Output {
  stdout: Terminal & { isTTY?: boolean };
  stderr: Terminal;
}

/** How a job being waited for or watched is shown, from start to end. */
export interface JobDisplay {
  /** A status of the job while it has not ended. */
  progress(status: StatusPayload): void;
  /** The final status: the display's last word. */
  end(status: FinalStatus): void;
  /** Waiting stopped without an end (an error, an interruption): leave the terminal clean. */
  abandon(): void;
}

/**
 * `--json`: machine output only. Every status as one JSON line when `everyStatus` (watch),
 * otherwise the final status alone.
 */
class JsonDisplay implements JobDisplay {
  constructor(
    private readonly out: Output,
    private readonly everyStatus: boolean,
  ) {}
  progress(status: StatusPayload): void {
    if (this.everyStatus) this.out.stdout.write(`${JSON.stringify(status)}\n`);
  }
  end(status: FinalStatus): void {
    this.out.stdout.write(`${JSON.stringify(status)}\n`);
  }
  abandon(): void {}
}

/** Piped: one plain line per change, then the final line. */
class LineDisplay implements JobDisplay {
  private readonly startedAt = Date.now();
  constructor(private readonly out: Output) {}
  progress(status: StatusPayload): void {
    this.out.stdout.write(`${describeProgress(status)}\n`);
  }
  end(status: FinalStatus): void {
    this.out.stdout.write(`${describeEnd(status, Date.now() - this.startedAt)}\n`);
  }
  abandon(): void {}
}

/** On a terminal: a progress bar with the job's message and the elapsed time, then the final line. */
class BarDisplay implements JobDisplay {
  private readonly bar: ProgressBar;
  constructor(out: Output) {
    this.bar = new ProgressBar(out.stdout);
    this.bar.start();
  }
  progress(status: StatusPayload): void {
    this.bar.update(status);
  }
  end(status: FinalStatus): void {
    this.bar.finish(describeEnd(status, this.bar.elapsedMs));
  }
  abandon(): void {
    this.bar.finish();
  }
}

export function jobDisplay(out: Output, options: { json: boolean; everyStatus: boolean }): JobDisplay {
  if (options.json) return new JsonDisplay(out, options.everyStatus);
  return out.stdout.isTTY ? new BarDisplay(out) : new LineDisplay(out);
}

/** "Running 40% Rebuilding report (2 of 5 s)", with the attempt once there was a retry. */
export function describeProgress(status: StatusPayload): string {
  const parts: string[] = [status.runtimeStatus];
  if (status.customStatus) parts.push(`${status.customStatus.progress}%`, status.customStatus.message);
  if (status.attempt > 1) parts.push(`(attempt ${status.attempt} of ${status.maxAttempts})`);
  if (status.lastError) parts.push(`last error: ${status.lastError}`);
  return parts.join(' ');
}

/** "Completed <id> after 0:05: {result}", "Failed <id>: why", "Terminated <id>: reason". */
export function describeEnd(status: FinalStatus, elapsedMs?: number): string {
  const after = elapsedMs === undefined ? '' : ` after ${formatElapsed(elapsedMs)}`;
  if (isCompleted(status)) return `Completed ${status.instanceId}${after}: ${JSON.stringify(status.output.result)}`;
  if (isFailed(status)) return `Failed ${status.instanceId}${after}: ${status.output.error.message}`;
  return `Terminated ${status.instanceId}${after}: ${status.output.reason}`;
}
