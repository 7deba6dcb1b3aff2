import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { Environment } from '@report-jobs/config';
import { metricsRequestListener, registerQueueGauges } from '@report-jobs/metrics';
import { JobStore } from '../reports/job-store';
import { ApiMetrics } from './api-metrics';

/**
 * Serves GET /metrics on METRICS_PORT, a plain node:http listener apart from the public
 * Fastify server: scrapes never pass API keys, rate limits or the request log, and the
 * port need not be exposed where the API is. Also adds the queue gauges, read at scrape time.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    private readonly metrics: ApiMetrics,
    private readonly store: JobStore,
    private readonly env: Environment,
  ) {}

  onApplicationBootstrap(): Promise<void> | void {
    const registry = this.metrics.registry;
    if (!registry) return;
    registerQueueGauges(registry, { read: () => this.store.queueCounts() });
    const server = createServer(metricsRequestListener(registry, (error) => this.logger.error(`Metrics: ${error.message}`)));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.env.METRICS_PORT, this.env.HOST, () => {
        this.logger.log(`Metrics on port ${this.env.METRICS_PORT}`);
        resolve();
      });
    });
  }

  onApplicationShutdown(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
