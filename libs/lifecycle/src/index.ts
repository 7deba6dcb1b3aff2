export * from './graceful-exit';
