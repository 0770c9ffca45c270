export * from './amqp.client-factory';
export * from './amqp.destination';
export * from './amqp.schema';
export * from './amqp.registration';
