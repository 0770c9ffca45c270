import { z } from 'zod';
import { Destination } from '@app/core';
import { KafkaDestination, kafkaDestinationSchema, KafkaWriter } from '@app/kafka';
import { AmqpClientFactory, AmqpDestination, amqpDestinationSchema } from '@app/amqp';
import { MqttClientFactory, MqttDestination, mqttDestinationSchema } from '@app/mqtt';
import { NatsClientFactory, NatsDestination, natsDestinationSchema } from '@app/nats';

/** Shared connections a destination may need, created once per worker. */
export interface DestinationResources {
  kafkaWriter(): KafkaWriter;
  mqttFactory(): MqttClientFactory;
  amqpFactory(): AmqpClientFactory;
  natsFactory(): NatsClientFactory;
}

/** One kind of destination: the schema of its rule entry and how to build it. */
export interface DestinationType<S extends z.ZodTypeAny> {
  readonly schema: S;
  /** The template fields of an entry, as [path within the entry, template], checked at validation. */
  templates(config: z.output<S>): Array<[ReadonlyArray<string | number>, string]>;
  /** Entry-level checks beyond the schema; returns [path within the entry, problem] pairs. */
  check?(config: z.output<S>): Array<[ReadonlyArray<string | number>, string]>;
  create(config: z.output<S>, name: string, captures: readonly string[], resources: DestinationResources): Destination;
}

function defineType<S extends z.ZodTypeAny>(t: DestinationType<S>): DestinationType<S> {
  return t;
}

/**
 * Every destination the bridge can write to, keyed by the `type` field of a rule's
 * destination entry. Adding a destination means adding an entry here, nothing else.
 */
export const DESTINATION_TYPES = {
  kafka: defineType({
    schema: kafkaDestinationSchema,
    templates: (c) => [
      [['topic'], c.topic],
      [['key'], c.key],
      ...Object.entries(c.headers).map(([name, value]): [string[], string] => [['headers', name], value]),
    ],
    check: (c) =>
      (['qos0', 'qos1', 'qos2'] as const)
        .filter((q) => c.delivery[q].idempotent && c.delivery[q].acks !== 'all')
        .map((q): [string[], string] => [['delivery', q], 'an idempotent producer needs acks: all']),
    create: (config, name, captures, resources) => new KafkaDestination(name, config, resources.kafkaWriter(), captures),
  }),
  mqtt: defineType({
    schema: mqttDestinationSchema,
    templates: (c) => [[['topic'], c.topic]],
    create: (config, name, captures, resources) => new MqttDestination(name, config, resources.mqttFactory(), captures),
  }),
  amqp: defineType({
    schema: amqpDestinationSchema,
    templates: (c) => [
      [['exchange'], c.exchange],
      [['routingKey'], c.routingKey],
      ...Object.entries(c.headers).map(([name, value]): [string[], string] => [['headers', name], value]),
    ],
    create: (config, name, captures, resources) => new AmqpDestination(name, config, resources.amqpFactory(), captures),
  }),
  nats: defineType({
    schema: natsDestinationSchema,
    templates: (c) => [
      [['subject'], c.subject],
      ...Object.entries(c.headers).map(([name, value]): [string[], string] => [['headers', name], value]),
    ],
    create: (config, name, captures, resources) => new NatsDestination(name, config, resources.natsFactory(), captures),
  }),
} as const;

export type DestinationTypeName = keyof typeof DESTINATION_TYPES;

export const destinationSchema = z.discriminatedUnion('type', [
  DESTINATION_TYPES.kafka.schema,
  DESTINATION_TYPES.mqtt.schema,
  DESTINATION_TYPES.amqp.schema,
  DESTINATION_TYPES.nats.schema,
]);
export type DestinationConfig = z.output<typeof destinationSchema>;

export function destinationType(config: DestinationConfig): DestinationType<z.ZodTypeAny> {
  return DESTINATION_TYPES[config.type] as DestinationType<z.ZodTypeAny>;
}

export function createDestination(
  config: DestinationConfig,
  name: string,
  captures: readonly string[],
  resources: DestinationResources,
): Destination {
  return destinationType(config).create(config, name, captures, resources);
}

/** A rule's destinations, named `<rule>/<type>[<index>]` in metrics, logs and dead letters. */
export function createRuleDestinations(
  configs: readonly DestinationConfig[],
  rule: string,
  captures: readonly string[],
  resources: DestinationResources,
): Destination[] {
  return configs.map((d, i) => createDestination(d, `${rule}/${d.type}[${i}]`, captures, resources));
}
