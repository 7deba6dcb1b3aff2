import { Logger, type INestApplicationContext } from '@nestjs/common';

/**
 * Closes the app on SIGTERM/SIGINT (running every shutdown hook: the worker lets active
 * jobs finish, the API finishes in-flight requests) and then exits 0. Nest's own
 * enableShutdownHooks re-raises the signal after closing, which orchestrators report as
 * a crash (exit 143). A second signal exits at once.
 *
 * Call it before the app is created, with the promise of the app: Nest starts consuming
 * and serving during creation, and a signal arriving then must not kill the process
 * with the default handler. Such a signal waits for the app and then closes it.
 */
export function exitGracefullyOnSignals(app: Promise<INestApplicationContext>): void {
  const logger = new Logger('Shutdown');
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (closing) {
        logger.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      closing = true;
      logger.log(`${signal} received: shutting down`);
      app
        .then((ready) => ready.close())
        .then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error(`Shutdown failed: ${error instanceof Error ? error.message : error}`);
            process.exit(1);
          },
        );
    });
  }
}
