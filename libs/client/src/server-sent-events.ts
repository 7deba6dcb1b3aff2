// A parser of text/event-stream (the WHATWG HTML "server-sent events" format), fed text
// as it arrives in chunks of any size. Kept apart from what the events mean: the job's
// event stream (job-events.ts) only reads what this yields.

export interface ServerSentEvent {
  /** The `event:` field; "message" when the event names none. */
  type: string;
  /** The `data:` lines, joined by "\n". */
  data: string;
  /** The last `id:` the stream has set, at this event or before; '' when none. */
  lastEventId: string;
}

export class ServerSentEventParser {
  private pending = '';
  private sawFirstChunk = false;
  private type = '';
  private data: string[] = [];
  private lastEventId = '';
  /** The reconnection delay the stream asked for (`retry:`), in milliseconds. */
  retryMs: number | undefined;

  /** The events completed by this chunk of the stream. */
  push(chunk: string): ServerSentEvent[] {
    let text = this.pending + chunk;
    if (!this.sawFirstChunk && text.length > 0) {
      this.sawFirstChunk = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    const events: ServerSentEvent[] = [];
    // Lines end with CRLF, LF or CR. A CR at the very end may be the first half of a CRLF.
    const lines = text.split(/\r\n|\n|\r(?!$)/);
    this.pending = lines.pop() ?? '';
    for (const line of lines) {
      const event = this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment: heartbeats
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default: // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    const event =
      this.data.length === 0 ? undefined : { type: this.type || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId };
    this.type = '';
    this.data = [];
    return event;
  }
}
