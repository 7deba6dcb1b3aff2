export * from './redis-connections';
export * from './bookkeeping-keys';
export * from './gone-record';
export * from './job-lifecycle';
export * from './job-snapshot.reader';
export * from './queue-counts.reader';
export * from './redis-errors';
export * from './eviction-policy';
