export * from './bridge-message';
export * from './bridge.error';
export * from './destination';
export * from './source';
export * from './retry-policy';
export * from './json.logger';
export * from './retry-policy.schema';
export * from './atomic-file';
