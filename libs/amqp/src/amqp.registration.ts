import { DestinationRegistration } from '@app/core';
import { AmqpClientFactory } from './amqp.client-factory';
import { AmqpDestination } from './amqp.destination';
import { amqpDestinationSchema, amqpDestinationSpec } from './amqp.schema';

/** The `amqp` destination type: RabbitMQ with publisher confirms. */
export const amqpDestinationRegistration: DestinationRegistration<typeof amqpDestinationSchema, { amqpFactory(): AmqpClientFactory }> = {
  ...amqpDestinationSpec,
  create: (config, name, captures, resources) => new AmqpDestination(name, config, resources.amqpFactory(), captures),
};
