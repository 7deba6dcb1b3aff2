import { MAX_CALLBACK_URL_LENGTH } from '@report-jobs/contract';

/** A callback URL the policy refuses, with why (shown to the client). */
export class CallbackUrlError extends Error {
  override name = 'CallbackUrlError';
}

export interface CallbackUrlPolicy {
  /** http:// as well as https:// (WEBHOOK_ALLOW_INSECURE). */
  allowInsecure: boolean;
}

/**
 * Ports below 1024 are those of other protocols' services (SMTP, SSH, …), which a crafted
 * HTTP request could talk to; only HTTP's own (80, 443) are allowed among them. Any port
 * from 1024 up is allowed: webhook receivers often listen on 8443, 8080 or others.
 */
export function isAllowedPort(port: number): boolean {
  return port === 80 || port === 443 || (port >= 1024 && port <= 65535);
}

/**
 * Checks a callback URL's form (its address is checked apart, at submit and again at each
 * delivery): absolute, https (http only when allowed), a host, no user or password (they
 * would be sent in clear to anyone on the path and logged), no fragment, an allowed port.
 * Answers the URL normalized, as it is stored, compared and shown.
 */
export function parseCallbackUrl(raw: string, policy: CallbackUrlPolicy): URL {
  if (raw.length > MAX_CALLBACK_URL_LENGTH) throw new CallbackUrlError(`must be at most ${MAX_CALLBACK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackUrlError('must be an absolute URL');
  }
  const schemes = policy.allowInsecure ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw new CallbackUrlError(policy.allowInsecure ? 'must be an https or http URL' : 'must be an https URL');
  }
  if (!url.hostname) throw new CallbackUrlError('must name a host');
  if (url.username || url.password) throw new CallbackUrlError('must not carry a user name or password');
  if (url.hash || raw.includes('#')) throw new CallbackUrlError('must not have a fragment');
  if (url.port && !isAllowedPort(Number(url.port))) throw new CallbackUrlError('must use port 80, 443 or 1024–65535');
  return url;
}

/** The host of a URL as an address or a name to resolve ([::1] without its brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}
