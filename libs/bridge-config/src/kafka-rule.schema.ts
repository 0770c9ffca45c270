import { z } from 'zod';
import { retryPolicySchema } from '@app/core';
import { kafkaSourceSchema } from '@app/kafka/kafka-source.schema';
import { mqttConnectionSchema, mqttTopicTemplateSchema } from '@app/mqtt/mqtt.schema';
import { compileTemplate, TemplateError } from '@app/topic';
import { ruleProcessSchema } from './rule-process.schema';
import { deadLetterSchema } from './dead-letter.schema';
import { ruleNameSchema } from './rule-name.schema';
import { transformProblems, transformSchema } from './transform.schema';

/** Where a Kafka -> MQTT rule publishes. */
const mqttTargetSchema = z
  .object({
    /** Template over the record: {key}, {header.NAME}, {payload.PATH}, {kafkaTopic}, {partition}, {rule}, {qos}, {clientId}. */
    topic: mqttTopicTemplateSchema,
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    retain: z.boolean().default(false),
    /** Seconds (MQTT 5 message expiry); default: none. */
    messageExpirySeconds: z.number().int().min(1).optional(),
    /** Another broker; default: the `mqtt` section's broker, over a connection of the rule's own. */
    broker: mqttConnectionSchema.optional(),
    /** Publishes the broker does not confirm are retried; 0 attempts means until it does. */
    retry: retryPolicySchema,
  })
  .strict();

const kafkaRuleObjectSchema = z
  .object({
    name: ruleNameSchema,
    kafka: kafkaSourceSchema,
    mqtt: mqttTargetSchema,
    /** Same modes as MQTT rules; `encrypt` seals for devices, bound to the MQTT topic by default. */
    transform: transformSchema.default({ mode: 'passthrough' }),
    /** As for MQTT rules; with it, {payload.PATH} in the topic reads the processed document. */
    process: ruleProcessSchema.optional(),
    deadLetter: deadLetterSchema.optional(),
  })
  .strict();

/** Checks that need the whole rule: the topic template compiles for records and reads what exists. */
function checkKafkaRule(rule: z.output<typeof kafkaRuleObjectSchema>, ctx: z.RefinementCtx): void {
  for (const [field, message] of transformProblems(rule.transform)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['transform', field], message });
  }
  try {
    const template = compileTemplate(rule.mqtt.topic, [], 'kafka-record');
    const opens = rule.transform.mode === 'decrypt' || rule.transform.mode === 'reencrypt';
    if (opens && !rule.process && template.placeholders.some((p) => p.startsWith('payload.'))) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['mqtt', 'topic'],
        message: `{payload.*} reads the record value as it is in Kafka, an envelope with transform ${rule.transform.mode}; add a process section (it reads the opened document) or use {key} or {header.NAME}`,
      });
    }
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['mqtt', 'topic'], message: error.message });
  }
}

/** One Kafka -> MQTT rule (`fromKafka` entries). */
export const kafkaRuleSchema = kafkaRuleObjectSchema.superRefine(checkKafkaRule);

export type KafkaRuleConfig = z.output<typeof kafkaRuleSchema>;
