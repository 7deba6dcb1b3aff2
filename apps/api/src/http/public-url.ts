/**
 * The absolute base of the URLs handed to clients. PUBLIC_BASE_URL wins (deployments
 * behind proxies); otherwise the request's own scheme and host, where Fastify takes
 * X-Forwarded-Proto/Host into account only when TRUST_PROXY is on.
 */
export function publicBaseUrl(configured: string | undefined, protocol: string, host: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  // X-Forwarded-Proto is the client's text when a proxy is trusted: only two values make sense.
  const scheme = protocol === 'https' ? 'https' : 'http';
  return `${scheme}://${isPlausibleHost(host) ? host : 'localhost'}`;
}

/** host[:port], a bracketed IPv6 literal included; anything else is not echoed into a URL. */
function isPlausibleHost(host: string | undefined): host is string {
  return !!host && /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host);
}

export function statusUrl(baseUrl: string, instanceId: string): string {
  return `${baseUrl}/api/jobs/reports/${instanceId}`;
}
