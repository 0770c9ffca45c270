export * from './bridge.worker';
export * from './dead-letter.replayer';
export * from './destination.factory';
export * from './kafka-record.input';
export * from './kafka-rule.destination';
export * from './kafka-rule.runner';
export * from './keyring.watcher';
export * from './rule-test.runner';
