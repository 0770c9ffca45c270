export * from './amqp.destination';
