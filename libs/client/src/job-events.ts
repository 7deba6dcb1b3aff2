import { ConnectionError, errorFromAnswer, ReportJobsError, UnexpectedAnswerError } from './errors';
import { pause, transientDelaySeconds, type PollingPolicy } from './polling-policy';
import { ServerSentEventParser } from './server-sent-events';
import { isFinal, RUNTIME_STATUSES, type StatusPayload } from './types';

/** One event of a job's stream: its status, and the id to resume after it. */
export interface JobEvent {
  id: string;
  status: StatusPayload;
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** Resume after this event (the id of the last event already seen). */
  lastEventId?: string;
}

/** The event that carries a job's status; others are skipped. */
const STATUS_EVENT = 'status';
const DEFAULT_RECONNECT_SECONDS = 1;

/**
 * Follows a job's event stream (GET …/{instanceId}/events, text/event-stream): `id:` a
 * per-job version, `event: status`, `data:` the status payload, `:` heartbeats. The
 * stream ends after the final status. A connection that drops (or a stream that closes
 * early) is opened again with Last-Event-ID, so no status is missed or repeated; a 204
 * on reconnecting says the final status was already delivered. 404 and 410 end it with
 * their typed errors; 503 and 429 are retried after their Retry-After, a bounded number
 * of times in a row, as are dropped connections.
 */
export async function* followJobEvents(
  url: string,
  headers: Record<string, string>,
  fetchAnswer: (request: Request) => Promise<Response>,
  policy: PollingPolicy,
  options: FollowOptions = {},
): AsyncGenerator<JobEvent, void, undefined> {
  const { signal } = options;
  let lastEventId = options.lastEventId;
  let reconnectSeconds = DEFAULT_RECONNECT_SECONDS;
  let failures = 0;
  for (;;) {
    let failure: unknown;
    try {
      const response = await open(url, headers, lastEventId, fetchAnswer, signal);
      if (response === 'ended') return;
      const parser = new ServerSentEventParser();
      for await (const chunk of response.pipeThrough(new TextDecoderStream())) {
        for (const event of parser.push(chunk)) {
          if (event.type !== STATUS_EVENT) continue;
          const status = parseStatus(event.data);
          lastEventId = event.lastEventId || lastEventId;
          failures = 0;
          yield { id: lastEventId ?? '', status };
          if (isFinal(status)) return;
        }
        if (parser.retryMs !== undefined) reconnectSeconds = parser.retryMs / 1000;
      }
      failure = new ConnectionError('The event stream closed before the job ended.');
    } catch (error) {
      signal?.throwIfAborted();
      // What is not the client's own error is the connection failing under the stream.
      failure = error instanceof ReportJobsError ? error : new ConnectionError('The event stream was cut off.', { cause: error });
    }
    failures += 1;
    const delay = transientDelaySeconds(failure, failures, policy);
    if (delay === undefined) throw failure;
    await pause(Math.max(delay, reconnectSeconds), signal);
  }
}

/** Opens the stream: its body, or 'ended' when there is nothing more to come. */
async function open(
  url: string,
  headers: Record<string, string>,
  lastEventId: string | undefined,
  fetchAnswer: (request: Request) => Promise<Response>,
  signal: AbortSignal | undefined,
): Promise<ReadableStream<Uint8Array> | 'ended'> {
  const request = new Request(url, {
    headers: { ...headers, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal,
  });
  let response: Response;
  try {
    response = await fetchAnswer(request);
  } catch (error) {
    signal?.throwIfAborted();
    throw new ConnectionError(`Could not reach ${new URL(url).origin}.`, { cause: error });
  }
  if (response.status === 204) return 'ended';
  if (response.status !== 200) {
    const text = await response.text();
    throw errorFromAnswer(response, parseJson(text));
  }
  const mediaType = response.headers.get('content-type')?.split(';')[0].trim();
  if (mediaType !== 'text/event-stream' || response.body === null) {
    await response.body?.cancel();
    throw new UnexpectedAnswerError(`The event stream answered ${mediaType ?? 'no content type'}, not text/event-stream.`, response.status);
  }
  return response.body;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The data of a status event: a status payload (a text/event-stream body is not typed by the document, so it is checked here). */
function parseStatus(data: string): StatusPayload {
  const value = parseJson(data);
  if (!looksLikeStatus(value)) throw new UnexpectedAnswerError(`A status event carried no status payload: ${data.slice(0, 200)}`, 200);
  return value;
}

function looksLikeStatus(value: unknown): value is StatusPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    'instanceId' in value &&
    typeof value.instanceId === 'string' &&
    'runtimeStatus' in value &&
    RUNTIME_STATUSES.some((status) => status === value.runtimeStatus)
  );
}
