import './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { exitGracefullyOnSignals } from '@report-jobs/lifecycle';
import { WorkerModule } from './worker.module';

/** The worker process: no API, just the BullMQ worker (and health probes); scale it by running more. */
async function main(): Promise<void> {
  // Creating the context starts the worker, so SIGTERM handling goes in first: without it
  // a signal would kill active jobs instead of letting them finish.
  const creating = NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  exitGracefullyOnSignals(creating);
  const app = await creating;
  app.useLogger(app.get(Logger));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
