import { z } from 'zod';
import { DestinationSpec } from '@app/core';
// Schema modules only: validating a configuration loads no broker client.
import { amqpDestinationSpec } from '@app/amqp/amqp.schema';
import { kafkaDestinationSpec } from '@app/kafka/kafka.schema';
import { mqttDestinationSpec } from '@app/mqtt/mqtt.schema';
import { natsDestinationSpec } from '@app/nats/nats.schema';

/**
 * Every destination type a rule may name, keyed by its entry's `type`. A new type is a lib
 * that exports a DestinationSpec from its schema module (listed here) and a
 * DestinationRegistration beside its destination (listed in @app/worker's destination
 * factory); docs/architecture.md walks through it.
 */
export const DESTINATION_SPECS = [kafkaDestinationSpec, mqttDestinationSpec, amqpDestinationSpec, natsDestinationSpec] as const;

export const destinationSchema = z.discriminatedUnion('type', [
  kafkaDestinationSpec.schema,
  mqttDestinationSpec.schema,
  amqpDestinationSpec.schema,
  natsDestinationSpec.schema,
]);
export type DestinationConfig = z.output<typeof destinationSchema>;
export type DestinationTypeName = DestinationConfig['type'];

const BY_TYPE: ReadonlyMap<string, DestinationSpec> = new Map(DESTINATION_SPECS.map((spec) => [spec.type, spec as DestinationSpec]));

/** The spec of an entry that passed the schema (its type is one of DESTINATION_SPECS). */
export function destinationSpec(config: DestinationConfig): DestinationSpec {
  return BY_TYPE.get(config.type)!;
}
