export * from './nats.client-factory';
export * from './nats.destination';
