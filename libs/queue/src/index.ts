export * from './redis-connections';
export * from './bookkeeping-keys';
export * from './gone-record';
export * from './job-lifecycle';
export * from './job-snapshot.reader';
