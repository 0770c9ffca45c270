import { z } from 'zod';
import { validateTopicName } from '@app/topic';

const kafkaTopicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, "expected a Kafka topic name (letters, digits, '.', '_', '-')");

/** Where a rule's dead letters go: a Kafka topic (default) or an MQTT topic on the source broker. */
export const deadLetterSchema = z.preprocess(
  // `type` may be left out for the common case, a Kafka topic.
  (value) => (value !== null && typeof value === 'object' && !('type' in value) ? { ...value, type: 'kafka' } : value),
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('kafka'), topic: kafkaTopicName }).strict(),
    z
      .object({
        type: z.literal('mqtt'),
        /** Published on the source broker, QoS 1 or 2, with the reason in MQTT 5 user properties. */
        topic: z.string().min(1).refine((t) => validateTopicName(t) === null, 'expected an MQTT topic name (no wildcards)'),
        qos: z.union([z.literal(1), z.literal(2)]).default(1),
      })
      .strict(),
  ]),
);

export type DeadLetterTarget = z.output<typeof deadLetterSchema>;

