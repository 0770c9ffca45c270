export * from './nats.client-factory';
export * from './nats.destination';
export * from './nats.schema';
export * from './nats.registration';
