import { z } from 'zod';
import { refineWith } from '@app/config';
import { kafkaTopicProblem } from '@app/kafka/kafka-topic-name';
import { quote, validateTopicName } from '@app/topic';

/** Where a rule's dead letters go: a Kafka topic (default) or an MQTT topic on the source broker. */
export const deadLetterSchema = z.preprocess(
  // `type` may be left out for the common case, a Kafka topic.
  (value) => (value !== null && typeof value === 'object' && !('type' in value) ? { ...value, type: 'kafka' } : value),
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('kafka'), topic: z.string().superRefine(refineWith(kafkaTopicProblem)) }).strict(),
    z
      .object({
        type: z.literal('mqtt'),
        /** Published on the source broker, QoS 1 or 2, with the reason in MQTT 5 user properties. */
        topic: z.string().superRefine(refineWith(mqttTopicProblem)),
        qos: z.union([z.literal(1), z.literal(2)]).default(1),
      })
      .strict(),
  ]),
);

function mqttTopicProblem(topic: string): string | null {
  const problem = validateTopicName(topic);
  return problem && `invalid MQTT topic ${quote(topic)}: ${problem}`;
}

export type DeadLetterTarget = z.output<typeof deadLetterSchema>;
