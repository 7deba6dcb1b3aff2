import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BoardAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Environment } from '@report-jobs/config';
import { REPORTS_QUEUE, WEBHOOKS_QUEUE } from '@report-jobs/contract';
import { createRedisClient, QueueShards } from '@report-jobs/queue';
import { ApiKeyRegistry } from '../auth/api-key-registry';
import { AuthFailureThrottle } from '../auth/auth-failure-throttle';
import { problem, PROBLEM_CONTENT_TYPE, ProblemException, sendProblem } from '../http/problem-details';
import { basicCredentials } from './basic-credentials';

export const DASHBOARD_PATH = '/admin/queues';
const REALM = 'Basic realm="report-jobs queue dashboard", charset="UTF-8"';

/**
 * Bull Board at /admin/queues, for admin keys only: a browser asks for the admin principal
 * as user name and its admin key as password (HTTP Basic). Read-only unless
 * DASHBOARD_ACTIONS=true. The board has no authentication of its own, and Nest's
 * middleware does not reach plugins on Fastify, so it lives in an encapsulated Fastify
 * plugin whose onRequest hook checks every request, page, assets and board API alike.
 * It reads the queue through a Redis connection of its own, so its page-sized reads never
 * queue behind the API's hot path. With several shards, each is a queue of the board,
 * named by its key prefix.
 */
export function mountQueueDashboard(app: NestFastifyApplication, env: Environment): void {
  const logger = new Logger('QueueDashboard');
  const keys = app.get(ApiKeyRegistry);
  const throttle = app.get(AuthFailureThrottle);
  const connection = createRedisClient(env, 'producer', { name: 'dashboard' });
  connection.on('error', (error: Error) => logger.warn(`Redis connection: ${error.message}`));
  const shards = QueueShards.fromEnvironment(env);
  const queues = shards.all.map((shard) => {
    const queue = new Queue(REPORTS_QUEUE, { connection, prefix: shard.prefix });
    queue.on('error', (error) => logger.warn(`Queue: ${error.message}`));
    return queue;
  });
  // Webhook deliveries waiting, running or between retries (delivered ones leave their queue).
  const deliveries = new Queue(WEBHOOKS_QUEUE, { connection, prefix: env.QUEUE_PREFIX });
  deliveries.on('error', (error) => logger.warn(`Queue: ${error.message}`));

  const board = new BoardAdapter();
  board.setBasePath(DASHBOARD_PATH);
  const actions = env.DASHBOARD_ACTIONS;
  createBullBoard({
    queues: [
      ...queues.map(
        (queue) =>
          new BullMQAdapter(queue, {
            readOnlyMode: !actions,
            allowRetries: actions,
            // The board keys its queues by name: shards share theirs, so the prefix tells them apart.
            ...(shards.count > 1 ? { prefix: `${queue.opts.prefix}:` } : {}),
          }),
      ),
      new BullMQAdapter(deliveries, { readOnlyMode: !actions, allowRetries: actions }),
    ],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'report-jobs' } },
  });
  // The board's own handler would send the error's message (and its stack in development).
  board.setErrorHandler((error) => {
    logger.error({ err: error }, 'Queue dashboard request failed');
    return { status: 500, body: {} };
  });

  // Credentials are checked here, outside Nest's guards: failures count against the same
  // per-address budget as wrong API keys, so the dashboard is no side door for guessing.
  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      throttle.refuseOverBudget(request);
    } catch (exception) {
      await sendProblem(exception, request, reply);
      return;
    }
    const presented = request.headers.authorization;
    const credentials = basicCredentials(presented);
    const caller = credentials ? keys.authenticate(credentials.password) : undefined;
    if (caller?.admin && caller.principal === credentials?.user) return;
    // A browser's first request carries no credentials: it guesses nothing.
    if (presented) throttle.failed(request, 'dashboard credentials not of an admin');
    const detail = 'The queue dashboard needs an admin principal as user name and its admin API key as password.';
    await sendProblem(new ProblemException(401, detail).withHeaders({ 'www-authenticate': REALM }), request, reply);
  };

  const fastify = app.getHttpAdapter().getInstance();
  fastify.register(
    (dashboard, _options, done) => {
      dashboard.addHook('onRequest', requireAdmin);
      dashboard.addHook('onSend', (request, reply, payload, next) => {
        const contentType = String(reply.getHeader('content-type') ?? '');
        if (reply.statusCode < 400 || contentType.startsWith(PROBLEM_CONTENT_TYPE)) return next(null, payload);
        // The board answers its own errors in a shape of its own; this API's errors are problems.
        reply.header('content-type', PROBLEM_CONTENT_TYPE);
        next(null, JSON.stringify({ ...problem(reply.statusCode, boardErrorDetail(reply.statusCode)), requestId: request.id }));
      });
      dashboard.addHook('onClose', async () => {
        await Promise.all([...queues, deliveries].map((queue) => queue.close().catch(() => undefined)));
        connection.disconnect();
      });
      dashboard.register(board.registerPlugin());
      done();
    },
    { prefix: DASHBOARD_PATH },
  );
}

function boardErrorDetail(status: number): string {
  if (status === 405) return 'The queue dashboard is read-only; DASHBOARD_ACTIONS=true enables its actions.';
  if (status === 404) return 'The queue dashboard has no such page, queue or job.';
  if (status >= 500) return 'The dashboard could not read the queue.';
  return 'The queue dashboard could not do this.';
}
