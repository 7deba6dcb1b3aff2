/** What a Server-Sent Events stream carries: events, and comment lines (heartbeats). */
export type StreamItem = { kind: 'event'; id?: string; event: string; data: string } | { kind: 'comment'; text: string };

export interface EventStreamClient {
  status: number;
  headers: Headers;
  /** The next event or comment; undefined once the server has ended the stream. */
  next(): Promise<StreamItem | undefined>;
  /** The next event, skipping comments; undefined once the stream has ended. */
  nextEvent(): Promise<Extract<StreamItem, { kind: 'event' }> | undefined>;
  /** Every event until the server ends the stream. */
  eventsUntilEnd(): Promise<Array<Extract<StreamItem, { kind: 'event' }>>>;
  /** Closes the stream from this side. */
  close(): void;
}

/**
 * Opens a text/event-stream with fetch and parses it as the HTML standard says: lines end
 * with CRLF, LF or CR; a blank line dispatches; `field: value`, one space dropped; lines
 * starting with ':' are comments. Each wait for the next item is bounded (`timeoutMs`), so
 * that a stream that never sends fails the test instead of hanging it.
 */
export async function openEventStream(url: string, headers: Record<string, string> = {}, { timeoutMs = 15_000 } = {}): Promise<EventStreamClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  const items: StreamItem[] = [];
  let buffer = '';
  let ended = !reader;
  let fields: { id?: string; event?: string; data?: string[] } = {};

  const parseLine = (line: string) => {
    if (line === '') {
      if (fields.data !== undefined) items.push({ kind: 'event', id: fields.id, event: fields.event ?? 'message', data: fields.data.join('\n') });
      fields = {};
      return;
    }
    if (line.startsWith(':')) {
      items.push({ kind: 'comment', text: line.slice(1).trim() });
      return;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') (fields.data ??= []).push(value);
    else if (name === 'id') fields.id = value;
    else if (name === 'event') fields.event = value;
  };

  const readMore = async (): Promise<void> => {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`nothing came on ${url} within ${timeoutMs} ms`)), timeoutMs).unref(),
    );
    const chunk = await Promise.race([reader!.read(), timeout]);
    if (chunk.done) {
      ended = true;
      return;
    }
    buffer += decoder.decode(chunk.value, { stream: true });
    const lines = buffer.split(/\r\n|\n|\r/);
    // A trailing CR may be the first half of a CRLF: keep the last piece for the next chunk.
    buffer = lines.pop() ?? '';
    lines.forEach(parseLine);
  };

  const next = async (): Promise<StreamItem | undefined> => {
    while (items.length === 0 && !ended) await readMore();
    return items.shift();
  };
  const nextEvent = async () => {
    for (let item = await next(); item; item = await next()) if (item.kind === 'event') return item;
    return undefined;
  };

  return {
    status: response.status,
    headers: response.headers,
    next,
    nextEvent,
    async eventsUntilEnd() {
      const events = [];
      for (let event = await nextEvent(); event; event = await nextEvent()) events.push(event);
      return events;
    },
    close: () => abort.abort(),
  };
}
