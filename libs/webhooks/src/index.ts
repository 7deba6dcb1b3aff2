export * from './address-policy';
export * from './callback-url';
export * from './host-resolver';
export * from './retry-schedule';
export * from './signature';
export * from './webhook-sender';
