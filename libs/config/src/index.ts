export * from './environment';
export * from './redis-target';
export * from './config.module';
