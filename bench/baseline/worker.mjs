/**
 * Baseline worker: a bare BullMQ Worker whose processor returns the same output shape as
 * the real one, at once. It is the bar for what the worker's framework layers (Nest,
 * per-job logging, time limits, error classification) cost per job.
 */
import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../lib/jobs.mjs';

// The real worker's default WORKER_CONCURRENCY.
const CONCURRENCY = 10;

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const worker = new Worker(
  QUEUE_NAME,
  async (job) => ({
    status: 'completed',
    instanceId: job.id,
    result: { customerId: job.data.input.customer_id, operation: job.data.input.operation },
  }),
  { connection, concurrency: CONCURRENCY },
);
worker.on('error', (error) => console.error(`worker: ${error.message}`));

// Same readiness probe as the real worker, so the harness waits on both the same way.
const health = createServer((request, response) => {
  const ready = request.url === '/health/ready' && worker.isRunning() && connection.status === 'ready';
  response.writeHead(ready ? 200 : 503).end();
});
health.listen(Number(process.env.WORKER_HEALTH_PORT ?? 3001), '127.0.0.1');

process.once('SIGTERM', async () => {
  await worker.close();
  health.close();
  connection.disconnect();
  process.exit(0);
});
