import type { StatusMapping } from '@report-jobs/contract';
import { currentProgress, type JobSnapshot } from '@report-jobs/queue';

/** Where an attempt stands; the order is the order of a job's life. */
export enum JobPhase {
  /** Queued, no attempt started yet. */
  Queued = 0,
  /** An attempt runs. */
  Running = 1,
  /** Back in the queue after an attempt: waiting for a retry, or requeued after a crash or a shutdown. */
  BetweenAttempts = 2,
  /** Completed, failed or terminated: nothing changes any more. */
  Ended = 3,
}

/**
 * A job's version: (attempt, phase, progress report), compared in that order. It is read
 * from the job itself, never counted apart from it, so any replica computes the same
 * version from the same job, and a client's last-seen version tells what it has missed.
 * Every change a client can see moves it forward: a new attempt, a change of phase, a
 * progress report (numbered per attempt by the worker that runs it).
 */
export interface JobVersion {
  attempt: number;
  phase: JobPhase;
  progress: number;
}

export function jobVersion(snapshot: JobSnapshot, mapping: StatusMapping): JobVersion {
  const attempt = Math.max(snapshot.attemptsStarted, snapshot.attemptsMade);
  if (!mapping.inProgress) return { attempt, phase: JobPhase.Ended, progress: 0 };
  if (snapshot.state === 'active') return { attempt, phase: JobPhase.Running, progress: progressNumber(snapshot) };
  return { attempt, phase: attempt === 0 ? JobPhase.Queued : JobPhase.BetweenAttempts, progress: 0 };
}

/**
 * The number of the running attempt's latest progress report, 0 before its first. Reports
 * written by workers that did not number them count by their time instead: within one
 * attempt, all come from the one worker that runs it.
 */
function progressNumber(snapshot: JobSnapshot): number {
  const progress = currentProgress(snapshot);
  const counted = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;
  if (counted(progress?.sequence)) return progress.sequence;
  return counted(progress?.updatedAt) ? progress.updatedAt : 0;
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareVersions(a: JobVersion, b: JobVersion): number {
  return a.attempt - b.attempt || a.phase - b.phase || a.progress - b.progress;
}

/** The version as an event id: `attempt.phase.progress`, e.g. `1.1.3`. */
export function formatVersion(version: JobVersion): string {
  return `${version.attempt}.${version.phase}.${version.progress}`;
}

const VERSION_TEXT = /^(\d{1,9})\.([0-3])\.(\d{1,15})$/;

/** The version an event id names, or undefined for text this API never sends as an id. */
export function parseVersion(text: string | undefined): JobVersion | undefined {
  const match = text === undefined ? null : VERSION_TEXT.exec(text.trim());
  if (!match) return undefined;
  return { attempt: Number(match[1]), phase: Number(match[2]) as JobPhase, progress: Number(match[3]) };
}
