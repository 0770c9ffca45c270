export * from './nats.destination';
