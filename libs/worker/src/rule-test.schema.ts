import { z } from 'zod';
import { refineWith } from '@app/config';
import { isValidKeyName, KEY_BYTES, KEY_NAME_MAX_LENGTH } from '@app/crypto';
import { kafkaTopicProblem } from '@app/kafka';
import { validateTopicName } from '@app/topic';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Hex digits, spaces allowed between bytes (`de ad be ef`). */
const hex = z
  .string()
  .transform((text) => text.replace(/\s+/g, ''))
  .refine((text) => HEX.test(text), 'expected hex digits, two per byte');

const keyName = z.string().refine(isValidKeyName, `must be 1..${KEY_NAME_MAX_LENGTH} characters of [A-Za-z0-9._-]`);

/** A symmetric test key; its secret never comes from the configuration's keystore. */
const testKeySchema = z
  .object({
    secret: z.string().refine((text) => BASE64.test(text) && Buffer.from(text, 'base64').length === KEY_BYTES, `must be base64 of exactly ${KEY_BYTES} bytes`),
  })
  .strict();

const headerValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** A payload as one of: UTF-8 text, a YAML value written as JSON or as CBOR, or bytes in hex. */
const payloadFields = {
  text: z.string().optional(),
  json: z.unknown().optional(),
  cbor: z.unknown().optional(),
  hex: hex.optional(),
};
export const PAYLOAD_FIELDS = ['text', 'json', 'cbor', 'hex'] as const;
export type PayloadField = (typeof PAYLOAD_FIELDS)[number];

function atMostOnePayload(value: Partial<Record<PayloadField, unknown>>, ctx: z.RefinementCtx, required: boolean): void {
  const given = PAYLOAD_FIELDS.filter((field) => value[field] !== undefined);
  if (given.length > 1 || (required && given.length === 0)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `give ${required ? 'exactly' : 'at most'} one of ${PAYLOAD_FIELDS.join(', ')}${given.length > 1 ? ` (this has ${given.join(' and ')})` : ''}`,
    });
  }
}

const expectedOutputSchema = z
  .object({
    rule: z.string().optional(),
    /** The destination's name, e.g. `telemetry/kafka[0]`. */
    destination: z.string().optional(),
    /** The address: Kafka or MQTT topic, NATS subject, or `exchange/routingKey` for AMQP. */
    topic: z.string(),
    /** The Kafka record key; null for none. */
    key: z.string().nullable().optional(),
    /** Headers the output must have (others may be there too). */
    headers: z.record(z.string(), headerValue).optional(),
    ...payloadFields,
    /** Avro or Protobuf outputs: the record decoded with the rule's schema, as a YAML value (bytes as base64). */
    decoded: z.unknown().optional(),
    /** Whether the bridge sealed the payload; the other payload fields compare the plaintext. */
    sealed: z.boolean().optional(),
  })
  .strict()
  .superRefine((value, ctx) => atMostOnePayload(value, ctx, false));

export type ExpectedOutput = z.output<typeof expectedOutputSchema>;

const expectationSchema = z
  .object({
    /** A filter step of every rule taking the message dropped it. */
    filtered: z.literal(true).optional(),
    /** The message is dead-lettered, nothing written. */
    deadLetter: z
      .object({
        reason: z.string().min(1),
        /** Text the dead letter's message contains. */
        message: z.string().optional(),
        rule: z.string().optional(),
      })
      .strict()
      .optional(),
    /** What is written, in order: rules in configuration order, each rule's destinations in order. */
    outputs: z.array(expectedOutputSchema).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const given = (['filtered', 'deadLetter', 'outputs'] as const).filter((field) => value[field] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give exactly one of filtered, deadLetter, outputs' });
  });

export type Expectation = z.output<typeof expectationSchema>;

const propertiesSchema = z
  .object({
    contentType: z.string().optional(),
    responseTopic: z.string().optional(),
    /** UTF-8 text. */
    correlationData: z.string().optional(),
    payloadFormatIndicator: z.boolean().optional(),
    messageExpiryInterval: z.number().int().min(0).optional(),
    userProperties: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  })
  .strict();

const headerText = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** A record as a fromKafka rule reads it; offset 0. */
const kafkaRecordSchema = z
  .object({
    topic: z.string().superRefine(refineWith(kafkaTopicProblem)),
    /** UTF-8; null or left out for none. */
    key: z.string().nullable().default(null),
    /** As text (YAML numbers and flags too); a list gives the header several times, as Kafka allows. */
    headers: z.record(z.string(), z.union([headerText, z.array(headerText)])).default({}),
    partition: z.number().int().min(0).default(0),
  })
  .strict();

export type CaseRecord = z.output<typeof kafkaRecordSchema>;

/** What a record does not have: a fromKafka rule sets QoS and retain, and properties come from `mqtt.*` headers. */
const MQTT_ONLY = ['qos', 'retain', 'properties'] as const;

const caseSchema = z
  .object({
    name: z.string().min(1),
    /** The MQTT topic the message is published on; exactly one of topic and kafka. */
    topic: z.string().superRefine(refineWith(validateTopicName)).optional(),
    /** The Kafka record fromKafka rules read. */
    kafka: kafkaRecordSchema.optional(),
    /** Default 1. */
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
    /** Default false. */
    retain: z.boolean().optional(),
    properties: propertiesSchema.optional(),
    /** Receipt time for expressions reading `receivedAt` (default: now). */
    receivedAt: z.string().datetime({ offset: true }).optional(),
    ...payloadFields,
    /** Seals the payload with this test key, bound to the (MQTT or Kafka) topic, as a producer would. */
    sealWith: keyName.optional(),
    expect: expectationSchema,
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.topic === undefined) === (value.kafka === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give exactly one of topic (an MQTT message) and kafka (a Kafka record)' });
    }
    if (value.kafka !== undefined) {
      for (const field of MQTT_ONLY.filter((f) => value[f] !== undefined)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [field],
          message: `${field} is for MQTT messages: a fromKafka rule takes QoS and retain from its mqtt section, MQTT 5 properties from mqtt.* headers`,
        });
      }
    }
    atMostOnePayload(value, ctx, true);
  });

export type RuleTestCase = z.output<typeof caseSchema>;

/** A case that publishes an MQTT message. */
export type MqttTestCase = RuleTestCase & { readonly topic: string };

/** A case that gives a Kafka record to fromKafka rules. */
export type KafkaTestCase = RuleTestCase & { readonly kafka: CaseRecord };

/** A `bridge test` case file; documented in docs/transforms.md. */
export const ruleTestFileSchema = z
  .object({
    /** Test keys by name; names not given here come from the configuration's plain key file. */
    keys: z.record(keyName, testKeySchema).default({}),
    cases: z.array(caseSchema).min(1),
  })
  .strict();

export type RuleTestFile = z.output<typeof ruleTestFileSchema>;
