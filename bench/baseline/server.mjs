/**
 * Baseline API: the same two endpoints as apps/api, done the plainest way with Fastify
 * and BullMQ: no Nest, no validation framework, no logging, BullMQ's own job lookup.
 * It is the bar for what the framework layers of the real API cost. Not for production.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_NAME, jobOptions, QUEUE_NAME } from '../lib/jobs.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RUNTIME_STATUS = { completed: 'Completed', failed: 'Failed', active: 'Running' };

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const queue = new Queue(QUEUE_NAME, { connection: redis });
const app = Fastify({ logger: false });

const statusUrl = (request, instanceId) => `${request.protocol}://${request.host}/api/jobs/reports/${instanceId}`;

app.post('/api/jobs/reports', async (request, reply) => {
  const body = request.body;
  // A hand-written check of the one required field; the real API validates every field.
  if (typeof body?.customer_id !== 'string') {
    return reply.code(400).send({ status: 400, detail: 'customer_id must be a string' });
  }
  const input = {
    customer_id: body.customer_id,
    operation: body.operation ?? 'rebuild-report',
    delay_seconds: body.delay_seconds ?? 5,
  };
  const instanceId = randomUUID();
  await queue.add(JOB_NAME, { input, correlationId: request.id }, jobOptions(instanceId));
  const url = statusUrl(request, instanceId);
  reply.code(202).header('location', url).header('retry-after', String(Math.max(1, input.delay_seconds)));
  return { status: 'accepted', instanceId, statusQueryGetUri: url };
});

app.get('/api/jobs/reports/:instanceId', async (request, reply) => {
  const { instanceId } = request.params;
  if (!UUID.test(instanceId)) return reply.code(400).send({ status: 400, detail: 'instanceId must be a UUID' });
  const job = await Job.fromId(queue, instanceId);
  if (!job) return reply.code(404).send({ status: 404, detail: 'no such job' });
  const runtimeStatus = RUNTIME_STATUS[await job.getState()] ?? 'Pending';
  const finished = runtimeStatus === 'Completed' || runtimeStatus === 'Failed';
  if (!finished) reply.header('location', statusUrl(request, instanceId)).header('retry-after', '1');
  reply.code(finished ? 200 : 202);
  return {
    name: JOB_NAME,
    instanceId,
    runtimeStatus,
    input: job.data.input,
    output: job.returnvalue ?? null,
    createdTime: new Date(job.timestamp).toISOString(),
    lastUpdatedTime: new Date(job.finishedOn ?? job.processedOn ?? job.timestamp).toISOString(),
  };
});

app.get('/health/ready', async () => {
  await redis.ping();
  return { status: 'ok' };
});

process.once('SIGTERM', async () => {
  await app.close();
  await queue.close();
  redis.disconnect();
  process.exit(0);
});

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
