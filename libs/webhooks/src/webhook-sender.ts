import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './host-resolver';

export interface WebhookRequest {
  url: URL;
  /** The addresses checked for this attempt: the connection goes to one of them, never elsewhere. */
  addresses: ResolvedAddress[];
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What the receiver answered. */
export interface WebhookAnswer {
  status: number;
  /** Its Retry-After, as a delay in ms, if it sent one that reads. */
  retryAfterMs?: number;
}

/** No answer: the connection failed, was reset, or the time limit passed. */
export class WebhookSendError extends Error {
  override name = 'WebhookSendError';
}

const USER_AGENT = 'report-jobs-webhooks';

/**
 * POSTs one delivery attempt and answers the receiver's status. Node's http client never
 * follows redirects, so a 3xx is just an answer. The socket resolves the host through
 * `pinned`, which answers the addresses already checked, so the connection cannot go to
 * another address than the one the policy allowed; TLS still verifies the certificate
 * against the URL's host name. The body of the answer is not read beyond draining it.
 */
export function sendWebhook(request: WebhookRequest): Promise<WebhookAnswer> {
  const { url, body, timeoutMs } = request;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WebhookAnswer>((resolve, reject) => {
    const outgoing = send(url, {
      method: 'POST',
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': USER_AGENT,
      },
      lookup: pinned(request.addresses),
      // One connection per attempt: nothing pooled outlives the check of its address.
      agent: false,
    });
    const timer = setTimeout(() => outgoing.destroy(new WebhookSendError(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    outgoing.once('response', (response: IncomingMessage) => {
      clearTimeout(timer);
      response.resume();
      resolve({ status: response.statusCode ?? 0, retryAfterMs: retryAfterMs(response.headers['retry-after']) });
    });
    outgoing.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(error instanceof WebhookSendError ? error : new WebhookSendError(describe(error)));
    });
    outgoing.end(body);
  });
}

/** A socket lookup that answers the given addresses, whatever name it is asked for. */
function pinned(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const allowed = options.family ? addresses.filter((entry) => entry.family === options.family) : addresses;
    if (allowed.length === 0) {
      callback(Object.assign(new Error('no checked address of the asked family'), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all) {
      (callback as unknown as (error: null, all: ResolvedAddress[]) => void)(null, allowed);
    } else {
      callback(null, allowed[0].address, allowed[0].family);
    }
  };
}

/** Retry-After in seconds or as an HTTP date, as a delay from now; undefined when unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}
