import { ConnectionError, ProblemError, UnavailableError } from '@report-jobs/client';

/**
 * What a failed command prints on stderr: the service's problem detail, its field errors
 * and request id (the service's logs have the rest under that id); never a stack. With
 * --json, the problem document itself.
 */
export function describeError(error: unknown, json: boolean): string {
  if (error instanceof ProblemError) {
    if (json) return JSON.stringify(error.problem);
    const lines = [`report-jobs: ${error.problem.detail}`];
    for (const field of error.problem.errors ?? []) lines.push(`  ${field.field}: ${field.message}`);
    if (error instanceof UnavailableError && error.statusQueryGetUri) lines.push(`  look for the job at ${error.statusQueryGetUri}`);
    if (error.requestId) lines.push(`  request id: ${error.requestId}`);
    return lines.join('\n');
  }
  const message = error instanceof ConnectionError ? connectionMessage(error) : error instanceof Error ? error.message : String(error);
  return json ? JSON.stringify({ error: message }) : `report-jobs: ${message}`;
}

function connectionMessage(error: ConnectionError): string {
  const cause = error.cause instanceof Error ? (error.cause.cause instanceof Error ? error.cause.cause.message : error.cause.message) : undefined;
  return cause ? `${error.message} (${cause})` : error.message;
}
