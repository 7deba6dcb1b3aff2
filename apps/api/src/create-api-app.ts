import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { Environment } from '@report-jobs/config';
import { exitGracefullyOnSignals } from '@report-jobs/lifecycle';
import { recordHttpRoute, tracingActive } from '@report-jobs/tracing';
import { ApiModule } from './api.module';
import { CONTINUATION_TOKEN_HEADER } from './reports/reports.controller';
import { answerClientError } from './http/client-error';
import { ProblemException, sendProblem } from './http/problem-details';
import { REQUEST_ID_HEADER, requestIdFor } from './http/request-id';
import { logRequests } from './http/request-logging';
import { SECURITY_HEADERS } from './http/security-headers';
import { mountQueueDashboard } from './dashboard/queue-dashboard';
import { ApiMetrics } from './metrics/api-metrics';
import { recordHttpDurations } from './metrics/http-metrics';
import { setUpSwagger } from './swagger';

/** Builds the API application: Fastify, logging, errors as problem+json, Swagger. */
export async function createApiApp(env: Environment): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: env.TRUST_PROXY,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // Router errors (a malformed URL, an over-long id) answer as problems too.
    frameworkErrors: (error: { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      reply.header(REQUEST_ID_HEADER, request.id);
      sendProblem(new ProblemException(status, status === 414 ? 'The URL is too long.' : 'The URL is malformed.'), request, reply);
    },
    // Requests too broken to reach the router (bad request line, header overflow).
    clientErrorHandler: answerClientError,
    // Node would answer a request without Host with an empty 400 of its own; let it reach
    // the app, which answers like any other (its URLs fall back to localhost).
    http: { requireHostHeader: false },
  });
  const fastify = adapter.getInstance();
  // Only JSON bodies are accepted (415 otherwise): drop Fastify's text/plain parser, and
  // below keep Nest from adding its form parser (bodyParser: false).
  fastify.removeContentTypeParser('text/plain');
  // One hook, fixed headers built once: the per-request cost stays a few property writes.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(SECURITY_HEADERS).header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // Server spans named by route (POST /api/jobs/reports/:instanceId), not by URL; only
  // with tracing on, so that it costs nothing otherwise.
  if (tracingActive()) {
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (request.routeOptions.url) recordHttpRoute(request.routeOptions.url);
      done();
    });
  }
  // Requests still in flight when the server starts closing end their connection with the
  // answer; a keep-alive connection left idle after close() began would hold the shutdown
  // until the client's keep-alive timeout.
  let closing = false;
  // Connections that have sent nothing yet (clients open them ahead of need, browsers and
  // fetch alike) hold nothing to finish, but Node's server.close() leaves them open until its
  // headers timeout, a minute later: close them with the server.
  const silent = new Set<Socket>();
  fastify.server.on('connection', (socket: Socket) => {
    silent.add(socket);
    socket.once('data', () => silent.delete(socket)).once('close', () => silent.delete(socket));
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    for (const socket of silent) socket.destroy();
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  const creating = NestFactory.create<NestFastifyApplication>(ApiModule, adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  exitGracefullyOnSignals(creating);
  const app = await creating;
  app.useLogger(app.get(Logger));
  logRequests(fastify, PinoLogger.root);
  const metrics = app.get(ApiMetrics);
  if (metrics.httpDuration) recordHttpDurations(fastify, metrics.httpDuration);
  if (env.CORS_ORIGINS) {
    const origins = env.CORS_ORIGINS.split(',').map((origin) => origin.trim());
    app.enableCors({
      origin: origins.includes('*') ? '*' : origins,
      exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'Preference-Applied', CONTINUATION_TOKEN_HEADER],
    });
  }
  setUpSwagger(app);
  mountQueueDashboard(app, env);
  return app;
}
