import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { exitGracefullyOnSignals } from '@report-jobs/lifecycle';
import { WorkerModule } from './worker.module';

/** The worker process: no HTTP server, just the BullMQ worker; scale it by running more. */
async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  // Without this, SIGTERM would kill active jobs instead of letting them finish.
  exitGracefullyOnSignals(app, (message) => logger.log(message, 'Shutdown'));
  await app.init();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
