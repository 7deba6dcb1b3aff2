import { ConnectionError, GoneError, NotFoundError, ProblemError, TooManyRequestsError, UnavailableError, type StatusPayload } from '@report-jobs/client';
import { describeError } from '../../apps/cli/src/describe-error';
import { EXIT, exitCodeOfError } from '../../apps/cli/src/exit-codes';
import { formatElapsed, progressLine } from '../../apps/cli/src/progress-bar';

const running: StatusPayload = {
  name: 'report',
  instanceId: '7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10',
  runtimeStatus: 'Running',
  input: { customer_id: 'c', operation: 'rebuild-report', delay_seconds: 5 },
  customStatus: { progress: 40, message: 'Rebuilding report (2 of 5 s)' },
  output: null,
  createdTime: '2026-11-26T10:00:00Z',
  lastUpdatedTime: '2026-11-26T10:00:02Z',
  attempt: 1,
  maxAttempts: 3,
};
const problem = (status: number, extra = {}) => ({ type: 'about:blank', title: 't', status, detail: `detail ${status}`, requestId: 'req-1', ...extra });

describe('the progress bar line', () => {
  it('shows the bar, the percentage, the elapsed time, the runtimeStatus and the message', () => {
    expect(progressLine(running, 65_000, 0, 100)).toBe('⠋ [██████████░░░░░░░░░░░░░░]  40%  1:05  Running  Rebuilding report (2 of 5 s)');
    expect(progressLine(undefined, 0, 1, 100)).toBe('⠙ [░░░░░░░░░░░░░░░░░░░░░░░░]   0%  0:00  Starting');
    expect(progressLine({ ...running, attempt: 2 }, 0, 0, 100)).toContain('Running (attempt 2 of 3)');
  });

  it('never wraps: it is cut to the terminal width', () => {
    expect([...progressLine(running, 0, 0, 40)]).toHaveLength(39);
  });

  it('formats elapsed time as m:ss, or h:mm:ss past an hour', () => {
    expect(formatElapsed(7_900)).toBe('0:07');
    expect(formatElapsed(754_000)).toBe('12:34');
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
  });
});

describe('the exit code and message of a failed command', () => {
  it('maps errors to the documented exit codes', () => {
    expect(exitCodeOfError(new NotFoundError(problem(404)))).toBe(EXIT.notFoundOrGone);
    expect(exitCodeOfError(new GoneError(problem(410)))).toBe(EXIT.notFoundOrGone);
    expect(exitCodeOfError(new UnavailableError(problem(503)))).toBe(EXIT.unavailable);
    expect(exitCodeOfError(new TooManyRequestsError(problem(429)))).toBe(EXIT.unavailable);
    expect(exitCodeOfError(new ConnectionError('down'))).toBe(EXIT.unavailable);
    expect(exitCodeOfError(new ProblemError(problem(400)))).toBe(EXIT.usage);
    expect(exitCodeOfError(new ProblemError(problem(409)))).toBe(EXIT.failed);
    expect(exitCodeOfError(new Error('bug'))).toBe(EXIT.failed);
  });

  it('prints the problem detail, field errors, where to look and the request id; with --json the problem itself', () => {
    const invalid = new ProblemError(problem(400, { errors: [{ field: 'customer_id', message: 'too long' }] }));
    expect(describeError(invalid, false)).toBe('report-jobs: detail 400\n  customer_id: too long\n  request id: req-1');
    const unknown = new UnavailableError(problem(503, { instanceId: 'i', statusQueryGetUri: 'http://api/api/jobs/reports/i' }));
    expect(describeError(unknown, false)).toContain('look for the job at http://api/api/jobs/reports/i');
    expect(JSON.parse(describeError(invalid, true))).toEqual(invalid.problem);
  });

  it('never prints a stack', () => {
    const bug = new Error('something broke');
    expect(describeError(bug, false)).toBe('report-jobs: something broke');
  });
});
