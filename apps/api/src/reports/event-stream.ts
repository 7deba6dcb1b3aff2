import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { compareVersions, formatVersion, type JobVersion } from './job-version';
import type { JobStatus } from './report-jobs.service';

/** The name of every event: its data is the job's status payload. */
export const STATUS_EVENT = 'status';

/**
 * A client that does not read its stream: once this much waits to be sent to it, the
 * stream is dropped rather than buffered without end.
 */
const MAX_BUFFERED_BYTES = 64 * 1024;

/**
 * One client's Server-Sent Events stream of one job. It sends a status only when its
 * version is newer than the last one the client has (sent here, or named by the client's
 * Last-Event-ID), so that no event is ever sent twice; the final status ends the stream.
 *
 * The stream is written on the raw response, after Fastify's hooks have set the headers
 * every answer carries (security headers, request id, CORS): they are sent with the head.
 */
export class EventStream {
  private readonly raw: ServerResponse;
  private readonly socket: Socket;
  private last?: JobVersion;

  /** @param after the version the client already has (its Last-Event-ID), if any */
  constructor(
    private readonly reply: FastifyReply,
    request: FastifyRequest,
    after: JobVersion | undefined,
  ) {
    this.raw = reply.raw;
    this.socket = request.raw.socket;
    this.last = after;
  }

  /** Takes the answer over from Fastify and sends the head at once, events or not. */
  start(): void {
    this.reply.hijack();
    const headers: OutgoingHttpHeaders = {
      ...(this.reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream',
      // Neither caches nor proxies may hold events back (X-Accel-Buffering: nginx).
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    };
    this.raw.writeHead(200, headers);
    this.raw.flushHeaders();
  }

  get open(): boolean {
    return !this.raw.writableEnded && !this.raw.destroyed && !this.socket.destroyed;
  }

  /** Runs `listener` once the stream is over, whoever ended it. */
  onClose(listener: () => void): void {
    this.raw.once('close', listener);
  }

  /**
   * Sends the status if the client does not have it or a newer one. The final status ends
   * the stream, sent or not: nothing comes after it, whatever id the client claimed.
   */
  offer(status: JobStatus): void {
    if (!this.open) return;
    if (!this.last || compareVersions(status.version, this.last) > 0) {
      this.last = status.version;
      this.write(`id: ${formatVersion(status.version)}\nevent: ${STATUS_EVENT}\ndata: ${JSON.stringify(status.payload)}\n\n`);
    }
    if (!status.mapping.inProgress) this.end();
  }

  /** A comment line: keeps proxies and load balancers from taking the stream for idle. */
  heartbeat(): void {
    this.write(': heartbeat\n\n');
  }

  /**
   * Ends the stream. `closeConnection` also closes the connection once the end is sent: on
   * shutdown, a kept-alive connection would otherwise hold the server open.
   */
  end(closeConnection = false): void {
    if (!this.open) return;
    this.raw.end(() => {
      if (closeConnection) this.socket.destroy();
    });
  }

  private write(text: string): void {
    if (!this.open) return;
    this.raw.write(text);
    if (this.raw.writableLength > MAX_BUFFERED_BYTES) this.raw.destroy();
  }
}
