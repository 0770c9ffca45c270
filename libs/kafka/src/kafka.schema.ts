import { z } from 'zod';
import { refineWith } from '@app/config';
import { DestinationSpec, headerTemplates, retryPolicySchema } from '@app/core';
import { kafkaTopicTemplateProblem } from './kafka-topic-name';
import { MQTT_HEADER_MODES } from './kafka-headers';

const acks = z.union([z.literal(0), z.literal(1), z.literal('all')]);

/** Producer guarantees for one MQTT QoS level. */
export const deliverySchema = z
  .object({
    acks,
    /** Idempotent producer: no duplicates from producer retries; needs acks: all. */
    idempotent: z.boolean().default(false),
  })
  .strict();

export const kafkaConnectionSchema = z
  .object({
    brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1),
    clientId: z.string().min(1).default('mqtt-bridge'),
    tls: z
      .object({
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        rejectUnauthorized: z.boolean().default(true),
      })
      .strict()
      .optional(),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .strict()
      .optional(),
    connectionTimeoutMs: z.number().int().min(100).default(3_000),
    requestTimeoutMs: z.number().int().min(100).default(30_000),
    producer: z
      .object({
        /**
         * Which library writes records: kafkajs, or librdkafka (native, an optional dependency
         * built at install; measured no faster in this bridge: docs/performance.md).
         */
        client: z.enum(['kafkajs', 'librdkafka']).default('kafkajs'),
        /**
         * kafkajs only: who encodes produce requests. `bridge`: one buffer per request, the same
         * bytes kafkajs 2.2.4 writes, for less CPU and garbage (docs/performance.md); `kafkajs`: its own.
         */
        encoding: z.enum(['bridge', 'kafkajs']).default('bridge'),
        /** librdkafka only: how long a batch waits for more records before it is sent (linger.ms). */
        lingerMs: z.number().int().min(0).max(1_000).default(20),
        /** Most records in one produce request; more accumulate while a request is in flight. */
        maxBatchMessages: z.number().int().min(1).max(100_000).default(1_000),
        /** Most bytes in one produce request: Kafka refuses a partition batch over its message.max.bytes (1 MiB by default). */
        maxBatchBytes: z.number().int().min(1024).max(900_000_000).default(900_000),
        compression: z.enum(['none', 'gzip']).default('none'),
        /** Records larger than this are refused before sending (the broker's message.max.bytes). */
        maxMessageBytes: z.number().int().min(1024).max(900_000_000).default(1_048_576),
        /** How the bridge retries a produce request that failed for a transient reason. */
        retry: retryPolicySchema,
      })
      .strict()
      .default({}),
  })
  .strict();

/** A rule destination of type `kafka`. Strings marked template accept `{capture}` placeholders. */
export const kafkaDestinationSchema = z
  .object({
    type: z.literal('kafka'),
    /** Template. */
    topic: z.string().superRefine(refineWith(kafkaTopicTemplateProblem)),
    /** Template; default keeps per-MQTT-topic order within one partition. Empty string: no key. */
    key: z.string().default('{topic}'),
    /** Fixed partition; default: chosen from the key by the Kafka default partitioner. */
    partition: z.number().int().min(0).optional(),
    /** Extra headers; values are templates. */
    headers: z.record(z.string()).default({}),
    /** Which `mqtt.*` / `bridge.rule` headers to write: all, minimal (topic + MQTT 5 properties) or none (see `mqttHeaders`). */
    mqttHeaders: z.enum(MQTT_HEADER_MODES).default('all'),
    delivery: z
      .object({
        qos0: deliverySchema.default({ acks: 1, idempotent: false }),
        qos1: deliverySchema.default({ acks: 'all', idempotent: true }),
        qos2: deliverySchema.default({ acks: 'all', idempotent: true }),
      })
      .strict()
      .default({}),
  })
  .strict();

export type KafkaConnectionConfig = z.output<typeof kafkaConnectionSchema>;
export type KafkaDestinationConfig = z.output<typeof kafkaDestinationSchema>;
export type DeliveryConfig = z.output<typeof deliverySchema>;

export const kafkaDestinationSpec: DestinationSpec<typeof kafkaDestinationSchema> = {
  type: 'kafka',
  schema: kafkaDestinationSchema,
  templates: (c) => [[['topic'], c.topic], [['key'], c.key], ...headerTemplates(c.headers)],
  check: (c) =>
    (['qos0', 'qos1', 'qos2'] as const)
      .filter((q) => c.delivery[q].idempotent && c.delivery[q].acks !== 'all')
      .map((q): [string[], string] => [['delivery', q], 'an idempotent producer needs acks: all']),
};
