import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { Environment } from '@report-jobs/config';
import { answerMetrics } from '@report-jobs/metrics';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { ReportWorker } from '../processors/report-worker';

/**
 * The worker has no API, only these probes on WORKER_HEALTH_PORT: live while the process
 * runs, ready while its BullMQ workers consume and Redis takes writes; and
 * GET /metrics for Prometheus unless WORKER_METRICS=false.
 * Not published in docker compose, so any number of workers can run side by side.
 */
@Injectable()
export class HealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HealthServer.name);
  private server?: Server;

  constructor(
    private readonly reportWorker: ReportWorker,
    private readonly env: Environment,
    private readonly metrics: WorkerMetrics,
  ) {}

  onApplicationBootstrap(): Promise<void> | void {
    if (this.env.WORKER_HEALTH_PORT === 0) return;
    const registry = this.metrics.registry;
    const onError = (error: Error) => this.logger.error(`Metrics: ${error.message}`);
    this.server = createServer((request, response) => {
      if (registry && answerMetrics(registry, request, response, onError)) return;
      void this.answer(request.url ?? '').then(([status, body]) => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.env.WORKER_HEALTH_PORT, () => {
        this.logger.log(`Health endpoints on port ${this.env.WORKER_HEALTH_PORT}`);
        resolve();
      });
    });
  }

  private async answer(url: string): Promise<[number, object]> {
    if (url === '/health/live') return [200, { status: 'ok' }];
    if (url === '/health/ready') {
      const ready = await this.reportWorker.isReady().catch(() => false);
      return [ready ? 200 : 503, { status: ready ? 'ok' : 'unavailable' }];
    }
    return [404, { status: 'not found' }];
  }

  onApplicationShutdown(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
