import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait';

/** One request the receiver got, as it arrived. */
export interface ReceivedWebhook {
  path: string;
  method: string;
  headers: Record<string, string>;
  /** The body's exact text: what the signature covers. */
  body: string;
}

/** How the receiver answers one request: a status (with headers), or no answer for `holdMs`. */
export type Answer = { status: number; headers?: Record<string, string> } | { holdMs: number };

/**
 * A webhook receiver for the tests, on 127.0.0.1 and a free port, over HTTP or (given a key
 * and certificate) HTTPS. It records every request and answers each path from a script of
 * answers (one per request, the last repeating), 204 when none is set.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private readonly held = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(tls?: { key: string; cert: string; host: string }): Promise<WebhookReceiver> {
    const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }) : createHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const receiver = new WebhookReceiver(server, `${tls ? 'https' : 'http'}://${tls?.host ?? '127.0.0.1'}:${port}`);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => receiver.handle(request, response));
    return receiver;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** Answers the next requests to `path` so, in order; the last answer repeats. */
  answer(path: string, ...answers: Answer[]): void {
    this.scripts.set(path, answers);
  }

  requestsTo(path: string): ReceivedWebhook[] {
    return this.received.filter((request) => request.path === path);
  }

  /** Waits until `path` has had `count` requests, and answers them. */
  waitForRequests(path: string, count: number, timeoutMs = 20_000): Promise<ReceivedWebhook[]> {
    return waitFor(`${count} request(s) to ${path}`, async () => this.requestsTo(path).length >= count && this.requestsTo(path), {
      timeoutMs,
    });
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      this.received.push({
        path,
        method: request.method ?? '',
        headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const script = this.scripts.get(path) ?? [];
      const answer = script.length > 1 ? script.shift()! : (script[0] ?? { status: 204 });
      if ('holdMs' in answer) {
        this.held.add(response);
        setTimeout(() => {
          this.held.delete(response);
          if (!response.destroyed) response.writeHead(204).end();
        }, answer.holdMs).unref();
        return;
      }
      response.writeHead(answer.status, answer.headers ?? {}).end();
    });
  }
}
