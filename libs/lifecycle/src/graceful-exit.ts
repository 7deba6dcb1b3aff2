import type { INestApplicationContext } from '@nestjs/common';

/**
 * Closes the app on SIGTERM/SIGINT (running every shutdown hook: the worker lets active
 * jobs finish, the API finishes in-flight requests) and then exits 0. Nest's own
 * enableShutdownHooks re-raises the signal after closing, which orchestrators report as
 * a crash (exit 143). A second signal exits at once.
 */
export function exitGracefullyOnSignals(app: INestApplicationContext, log: (message: string) => void): void {
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (closing) {
        log(`${signal} again: exiting now`);
        process.exit(1);
      }
      closing = true;
      log(`${signal} received: shutting down`);
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log(`Shutdown failed: ${error instanceof Error ? error.message : error}`);
          process.exit(1);
        },
      );
    });
  }
}
