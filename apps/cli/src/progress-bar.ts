import type { StatusPayload } from '@report-jobs/client';

/** Where the bar is drawn: a terminal (stdout when it is a TTY). */
export interface Terminal {
  write(text: string): boolean;
  columns?: number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 24;
const REDRAW_MS = 250;
const CLEAR_TO_END = '\x1b[K';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** 0:07, 12:34, 1:02:03. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const mmss = `${hours > 0 ? String(minutes).padStart(2, '0') : minutes}:${String(seconds).padStart(2, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

/**
 * One line of the bar: spinner, bar, percent, elapsed time, runtimeStatus and the job's
 * progress message, cut to the terminal's width (a wrapped line could not be redrawn).
 */
export function progressLine(status: StatusPayload | undefined, elapsedMs: number, frame: number, columns = 80): string {
  const percent = status?.customStatus?.progress ?? 0;
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * BAR_WIDTH);
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`;
  const attempt = status && status.attempt > 1 ? ` (attempt ${status.attempt} of ${status.maxAttempts})` : '';
  const what = status ? `${status.runtimeStatus}${attempt}` : 'Starting';
  const message = status?.customStatus?.message ?? '';
  const line = `${FRAMES[frame % FRAMES.length]} ${bar} ${String(percent).padStart(3)}%  ${formatElapsed(elapsedMs)}  ${what}${message ? `  ${message}` : ''}`;
  return [...line].slice(0, Math.max(20, columns - 1)).join('');
}

/** A progress bar redrawn in place on a terminal while a job runs; elapsed time counts from its start(). */
export class ProgressBar {
  private status: StatusPayload | undefined;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(
    private readonly terminal: Terminal,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.startedAt = this.now();
    this.terminal.write(HIDE_CURSOR);
    this.draw();
    this.timer = setInterval(() => {
      this.frame += 1;
      this.draw();
    }, REDRAW_MS);
  }

  update(status: StatusPayload): void {
    this.status = status;
    this.draw();
  }

  /** Replaces the bar with a last line (none: just removes it) and gives the cursor back. */
  finish(lastLine?: string): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.terminal.write(`\r${CLEAR_TO_END}${lastLine === undefined ? '' : `${lastLine}\n`}${SHOW_CURSOR}`);
  }

  get elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  private draw(): void {
    this.terminal.write(`\r${progressLine(this.status, this.elapsedMs, this.frame, this.terminal.columns)}${CLEAR_TO_END}`);
  }
}
