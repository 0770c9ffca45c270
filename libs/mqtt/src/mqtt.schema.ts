import { z } from 'zod';
import { refineWith } from '@app/config';
import { DestinationSpec, retryPolicySchema } from '@app/core';
import { mqttStringProblem, validateTopicTemplate } from '@app/topic';

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)]);

/** A topic template published to: checked for what a broker would refuse in every topic it renders. */
export const mqttTopicTemplateSchema = z.string().superRefine(refineWith(validateTopicTemplate));

export const mqttTlsSchema = z
  .object({
    /** Paths to PEM files, read once at start-up. */
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict();

/** How to reach an MQTT broker; shared by the source and (later) MQTT destinations. */
export const mqttConnectionSchema = z
  .object({
    url: z.string().regex(/^(mqtts?|tcp|ssl|wss?):\/\/[^/\s]+/, 'expected a broker URL such as mqtt://host:1883 or mqtts://host:8883'),
    clientId: z
      .string()
      .min(1)
      .max(256)
      .superRefine(refineWith((id) => mqttStringProblem(id, 'the client id')))
      .optional(),
    username: z
      .string()
      .superRefine(refineWith((name) => mqttStringProblem(name, 'the user name')))
      .optional(),
    password: z.string().optional(),
    /** 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    keepaliveSeconds: z.number().int().min(0).max(65535).default(30),
    connectTimeoutMs: z.number().int().min(100).default(10_000),
    reconnectPeriodMs: z.number().int().min(100).default(1_000),
    tls: mqttTlsSchema.optional(),
  })
  .strict();

export const mqttSourceSchema = mqttConnectionSchema
  .extend({
    session: z
      .object({
        /** Keep the session (subscriptions and queued QoS 1/2 messages) while the bridge is away. */
        persistent: z.boolean().default(false),
        /** MQTT 5 session expiry; ignored on 3.1.1, where a persistent session never expires. */
        expirySeconds: z.number().int().min(1).max(4_294_967_295).default(3600),
      })
      .strict()
      .default({}),
    /** Upper bound of messages received but not yet acknowledged; also sent as MQTT 5 receive maximum. */
    maxInFlight: z.number().int().min(1).max(65535).default(1000),
    /**
     * MQTT 5 Maximum Packet Size announced to the broker. Off by default: a broker drops a larger
     * message for this client as if delivered (MQTT 5 section 3.1.2.11.4), where the bridge would
     * dead-letter it. Set it to keep huge payloads from ever reaching the worker's memory. MQTT 5 only.
     */
    maxPacketBytes: z.number().int().min(1024).max(268_435_455).optional(),
    status: z
      .object({
        /** Template; `{clientId}` is the bridge's client id. */
        topic: mqttTopicTemplateSchema,
        qos: qos.default(1),
        retain: z.boolean().default(true),
      })
      .strict()
      .optional(),
  })
  .strict();

export type MqttConnectionConfig = z.output<typeof mqttConnectionSchema>;
export type MqttSourceConfig = z.output<typeof mqttSourceSchema>;

/** A rule destination of type `mqtt`: another broker (a cloud broker, a site broker). */
export const mqttDestinationSchema = z
  .object({
    type: z.literal('mqtt'),
    broker: mqttConnectionSchema,
    /** Template. */
    topic: mqttTopicTemplateSchema,
    /** QoS to publish with, per incoming QoS (downgrade or upgrade); default: the same. */
    qos: z
      .object({ qos0: qos.default(0), qos1: qos.default(1), qos2: qos.default(2) })
      .strict()
      .default({}),
    /** Keep the incoming retain flag (default) or never retain. */
    retain: z.enum(['keep', 'never']).default('keep'),
    /** Seconds; overrides the incoming MQTT 5 message expiry. */
    messageExpirySeconds: z.number().int().min(1).optional(),
    /** Publishes that fail (broker down, connection lost before the acknowledgement) are retried. */
    retry: retryPolicySchema,
  })
  .strict();

export type MqttDestinationConfig = z.output<typeof mqttDestinationSchema>;

export const mqttDestinationSpec: DestinationSpec<typeof mqttDestinationSchema> = {
  type: 'mqtt',
  schema: mqttDestinationSchema,
  templates: (c) => [[['topic'], c.topic]],
};
