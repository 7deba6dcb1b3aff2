export * from './report-job.contract';
export * from './job-options';
export * from './runtime-status';
export * from './webhook.contract';
