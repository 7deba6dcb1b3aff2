import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { flushTracing } from './tracing';

/**
 * Exports the last spans when the app closes. Nest runs this after every
 * beforeApplicationShutdown hook (the worker's active jobs are over) and after the HTTP
 * server has closed (in-flight requests are answered), so their spans are included.
 */
@Injectable()
export class TracingFlush implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return flushTracing();
  }
}
