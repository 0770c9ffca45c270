export * from './kafka-headers';
export * from './kafka.client-factory';
export * from './kafka.destination';
export * from './kafka.errors';
export * from './kafka.schema';
export * from './kafka.writer';
export * from './serial-batcher';
