import { z } from 'zod';
import { refineWith } from '@app/config';
import { kafkaTopicProblem } from './kafka-topic-name';

/** The Kafka side of a Kafka -> MQTT rule: what the consumer group reads and how much it holds. */
export const kafkaSourceSchema = z
  .object({
    /** Consumer group; its committed offsets are where a restarted bridge resumes. */
    groupId: z.string().min(1),
    /** Topics to read; exactly one of topics and topicPattern. */
    topics: z
      .array(z.string().superRefine(refineWith(kafkaTopicProblem)))
      .min(1)
      .optional(),
    /** Regular expression over topic names, matched against the topics that exist at start-up. */
    topicPattern: z
      .string()
      .min(1)
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, 'expected a valid regular expression')
      .optional(),
    /** Where a group without committed offsets starts. */
    startFrom: z.enum(['earliest', 'latest']).default('earliest'),
    /** Records handed to MQTT and not yet confirmed; past it the consumer stops taking records. */
    maxInFlight: z.number().int().min(1).max(100_000).default(100),
    /** How long confirmed offsets may wait before they are committed (coalesces commits). */
    commitIntervalMs: z.number().int().min(0).max(60_000).default(200),
    sessionTimeoutMs: z.number().int().min(6_000).max(300_000).default(30_000),
  })
  .strict()
  .refine((s) => (s.topics === undefined) !== (s.topicPattern === undefined), { message: 'give exactly one of topics and topicPattern', path: ['topics'] });

export type KafkaSourceConfig = z.output<typeof kafkaSourceSchema>;
