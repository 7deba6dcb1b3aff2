export * from './report-jobs-metrics';
export * from './queue-gauges';
export { Registry } from 'prom-client';
export * from './metrics-endpoint';
export * from './webhook-gauges';
