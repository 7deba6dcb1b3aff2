import type { Counter, Histogram, Registry } from 'prom-client';
import { createRegistry, httpRequestDuration, jobsSubmitted } from '@report-jobs/metrics';

/**
 * The API's metrics. With METRICS_PORT=0 none exist: no registry, no default metrics, no
 * recording hook and no counting, so "metrics off" costs nothing per request.
 */
export class ApiMetrics {
  readonly registry?: Registry;
  readonly httpDuration?: Histogram<'method' | 'route' | 'status_code'>;
  private readonly submitted?: Counter<'operation'>;

  constructor(enabled: boolean) {
    if (!enabled) return;
    this.registry = createRegistry();
    this.httpDuration = httpRequestDuration(this.registry);
    this.submitted = jobsSubmitted(this.registry);
  }

  /** A request created a new job (not a repeat landing on an existing one). */
  jobCreated(operation: string): void {
    this.submitted?.inc({ operation });
  }
}
