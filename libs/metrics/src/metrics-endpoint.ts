import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export const METRICS_PATH = '/metrics';

/**
 * Answers GET /metrics with the registry in Prometheus' text format. Returns false for
 * any other request, so a server can serve its own paths beside it.
 */
export function answerMetrics(registry: Registry, request: IncomingMessage, response: ServerResponse, onError: (error: Error) => void): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== METRICS_PATH) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method Not Allowed\n');
    return true;
  }
  registry.metrics().then(
    (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
    (error: unknown) => {
      onError(error instanceof Error ? error : new Error(String(error)));
      response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics are unavailable; see the logs.\n');
    },
  );
  return true;
}

/** A request listener serving only GET /metrics (404 elsewhere). */
export function metricsRequestListener(registry: Registry, onError: (error: Error) => void) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    if (!answerMetrics(registry, request, response, onError)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    }
  };
}
