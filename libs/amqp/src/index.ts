export * from './amqp.client-factory';
export * from './amqp.destination';
