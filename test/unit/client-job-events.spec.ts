import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GoneError, NotFoundError, ReportJobsClient, type StatusPayload } from '@report-jobs/client';

// events() against a stand-in for the API's event stream (GET …/{id}/events), which
// speaks the stream's format: `id:` per-job version, `event: status`, `data:` the status
// payload, `:` heartbeats, closed after the final status.

const ID = '7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10';

function status(runtimeStatus: StatusPayload['runtimeStatus'], progress: number): StatusPayload {
  const ended = runtimeStatus === 'Completed';
  return {
    name: 'report',
    instanceId: ID,
    runtimeStatus,
    input: { customer_id: 'c', operation: 'rebuild-report', delay_seconds: 1 },
    customStatus: { progress, message: `${progress}%` },
    output: ended ? { status: 'completed', instanceId: ID, result: { customerId: 'c', operation: 'rebuild-report' } } : null,
    createdTime: '2026-11-26T10:00:00Z',
    lastUpdatedTime: '2026-11-26T10:00:00Z',
    attempt: 1,
    maxAttempts: 3,
  };
}

const EVENTS = [status('Pending', 0), status('Running', 50), status('Completed', 100)];
const event = (version: number) => `id: ${version}\nevent: status\ndata: ${JSON.stringify(EVENTS[version - 1])}\n\n`;

type Handler = (request: IncomingMessage, response: ServerResponse, connection: number) => void;

describe("the client's job events", () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;
  const lastEventIds: Array<string | undefined> = [];
  let connections = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      lastEventIds.push(request.headers['last-event-id'] as string | undefined);
      handler(request, response, ++connections);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    lastEventIds.length = 0;
    connections = 0;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const client = () => new ReportJobsClient({ baseUrl, apiKey: 'k', polling: { maxTransientRetries: 3 } });
  const collect = async (options = {}) => {
    const seen: Array<{ id: string; runtimeStatus: string }> = [];
    for await (const { id, status: payload } of client().events(ID, options)) seen.push({ id, runtimeStatus: payload.runtimeStatus });
    return seen;
  };
  const streamHead = (response: ServerResponse) => response.writeHead(200, { 'content-type': 'text/event-stream' });

  it('yields each status once, across a dropped connection resumed with Last-Event-ID, and ends after the final one', async () => {
    handler = (request, response, connection) => {
      streamHead(response);
      if (connection === 1) {
        response.write(': heartbeat\n\n' + event(1) + event(2).slice(0, 25));
        setImmediate(() => response.socket?.destroy()); // cut off in the middle of an event
        return;
      }
      const after = Number(request.headers['last-event-id']);
      response.end(EVENTS.map((_, index) => (index + 1 > after ? event(index + 1) : '')).join(''));
    };
    expect(await collect()).toEqual([
      { id: '1', runtimeStatus: 'Pending' },
      { id: '2', runtimeStatus: 'Running' },
      { id: '3', runtimeStatus: 'Completed' },
    ]);
    expect(lastEventIds).toEqual([undefined, '1']);
  });

  it('resumes after the given event, and ends at a 204 (the final status was already delivered)', async () => {
    handler = (_request, response) => {
      response.writeHead(204).end();
    };
    expect(await collect({ lastEventId: '3' })).toEqual([]);
    expect(lastEventIds).toEqual(['3']);
  });

  it('reconnects when the stream closes before the final status', async () => {
    handler = (_request, response, connection) => {
      streamHead(response);
      response.end(connection % 2 === 1 ? event(2) : event(3));
    };
    expect((await collect()).map((seen) => seen.runtimeStatus)).toEqual(['Running', 'Completed']);
  });

  it('ends with NotFoundError and GoneError on 404 and 410', async () => {
    const problem = (code: number) => (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(code, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type: 'about:blank', title: 't', status: code, detail: 'd', requestId: 'r', goneAt: '2026-11-26T10:00:00Z' }));
    };
    handler = problem(404);
    await expect(collect()).rejects.toBeInstanceOf(NotFoundError);
    handler = problem(410);
    const gone = await collect().catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(GoneError);
    expect((gone as GoneError).goneAt).toEqual(new Date('2026-11-26T10:00:00Z'));
  });

  it('stops at once when its signal aborts while the stream is quiet', async () => {
    handler = (_request, response) => {
      streamHead(response);
      response.write(event(1));
    };
    const abort = new AbortController();
    const reason = new Error('enough');
    const iterator = client().events(ID, { signal: abort.signal });
    expect((await iterator.next()).value?.status.runtimeStatus).toBe('Pending');
    const next = iterator.next();
    abort.abort(reason);
    await expect(next).rejects.toBe(reason);
  });
});
