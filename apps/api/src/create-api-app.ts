import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { Environment } from '@report-jobs/config';
import { exitGracefullyOnSignals } from '@report-jobs/lifecycle';
import helmet from '@fastify/helmet';
import { ApiModule } from './api.module';
import { CONTINUATION_TOKEN_HEADER } from './reports/reports.controller';
import { REQUEST_ID_HEADER, requestIdFor } from './http/request-id';
import { setUpSwagger } from './swagger';

/** Builds the API application: Fastify, logging, errors as problem+json, Swagger. */
export async function createApiApp(env: Environment): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: env.TRUST_PROXY,
    requestIdHeader: false,
    genReqId: requestIdFor,
  });
  const fastify = adapter.getInstance();
  // Only JSON bodies are accepted (415 otherwise): drop Fastify's text/plain parser, and
  // below keep Nest from adding its form parser (bodyParser: false).
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  const creating = NestFactory.create<NestFastifyApplication>(ApiModule, adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  exitGracefullyOnSignals(creating);
  const app = await creating;
  app.useLogger(app.get(Logger));
  await app.register(helmet, {
    // Swagger UI's page loads its own scripts and styles; everything else is JSON.
    // No upgrade-insecure-requests: it would break Swagger UI served over plain HTTP.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        upgradeInsecureRequests: null,
      },
    },
  });
  if (env.CORS_ORIGINS) {
    const origins = env.CORS_ORIGINS.split(',').map((origin) => origin.trim());
    app.enableCors({
      origin: origins.includes('*') ? '*' : origins,
      exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'Preference-Applied', CONTINUATION_TOKEN_HEADER],
    });
  }
  setUpSwagger(app);
  return app;
}
