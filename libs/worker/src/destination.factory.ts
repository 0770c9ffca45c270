import { Destination, DestinationRegistration } from '@app/core';
import { AmqpClientFactory, amqpDestinationRegistration } from '@app/amqp';
import { DestinationConfig } from '@app/bridge-config';
import { KafkaWriter, kafkaDestinationRegistration } from '@app/kafka';
import { MqttClientFactory, mqttDestinationRegistration } from '@app/mqtt';
import { NatsClientFactory, natsDestinationRegistration } from '@app/nats';

/** Shared connections a destination may need, created once per worker. */
export interface DestinationResources {
  kafkaWriter(): KafkaWriter;
  mqttFactory(): MqttClientFactory;
  amqpFactory(): AmqpClientFactory;
  natsFactory(): NatsClientFactory;
}

/**
 * How each destination type is built; the types and their schemas are @app/bridge-config's
 * DESTINATION_SPECS, which validation uses without loading these libs' clients.
 */
const REGISTRATIONS: ReadonlyMap<string, DestinationRegistration<never, DestinationResources>> = new Map(
  [kafkaDestinationRegistration, mqttDestinationRegistration, amqpDestinationRegistration, natsDestinationRegistration].map((r) => [
    r.type,
    r as unknown as DestinationRegistration<never, DestinationResources>,
  ]),
);

export function createDestination(config: DestinationConfig, name: string, captures: readonly string[], resources: DestinationResources): Destination {
  const registration = REGISTRATIONS.get(config.type);
  if (!registration) throw new Error(`no registration for destination type ${config.type}: list it in destination.factory.ts`);
  return registration.create(config as never, name, captures, resources);
}

/** A rule's destinations, named `<rule>/<type>[<index>]` as metrics and dead letters show them. */
export function createRuleDestinations(
  configs: readonly DestinationConfig[],
  rule: string,
  captures: readonly string[],
  resources: DestinationResources,
): Destination[] {
  return configs.map((d, i) => createDestination(d, `${rule}/${d.type}[${i}]`, captures, resources));
}
