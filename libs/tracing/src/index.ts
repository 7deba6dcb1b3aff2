export * from './tracing';
export * from './tracing-switch';
export * from './tracing-flush';
