import { DestinationRegistration } from '@app/core';
import { NatsClientFactory } from './nats.client-factory';
import { NatsDestination } from './nats.destination';
import { natsDestinationSchema, natsDestinationSpec } from './nats.schema';

/** The `nats` destination type: JetStream publishes acknowledged by the stream. */
export const natsDestinationRegistration: DestinationRegistration<typeof natsDestinationSchema, { natsFactory(): NatsClientFactory }> = {
  ...natsDestinationSpec,
  create: (config, name, captures, resources) => new NatsDestination(name, config, resources.natsFactory(), captures),
};
