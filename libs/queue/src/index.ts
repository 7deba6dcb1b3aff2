export * from './redis-connections';
export * from './job-snapshot.reader';
