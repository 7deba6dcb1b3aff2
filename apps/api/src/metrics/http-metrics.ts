import type { FastifyInstance } from 'fastify';
import type { Histogram } from 'prom-client';
import { UNMATCHED_ROUTE } from '@report-jobs/metrics';

/**
 * Times every answered request from Fastify's own start stamp (reply.elapsedTime), so one
 * hook at the end is all it adds. The route label is the matched template, never the raw
 * path, whose values are unbounded.
 */
export function recordHttpDurations(fastify: FastifyInstance, histogram: Histogram<'method' | 'route' | 'status_code'>): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    histogram.observe(
      { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
