import { z } from 'zod';
import { DestinationSpec, headerTemplates, retryPolicySchema } from '@app/core';

/** A rule destination of type `nats`: a JetStream publish, acknowledged by the stream. */
export const natsDestinationSchema = z
  .object({
    type: z.literal('nats'),
    servers: z.array(z.string().regex(/^(nats|tls):\/\/\S+$|^[^\s:/]+:\d+$/, 'expected nats://host:4222 or host:port')).min(1),
    user: z.string().optional(),
    pass: z.string().optional(),
    token: z.string().optional(),
    /** Template; a JetStream stream must capture it (the bridge does not create streams). */
    subject: z.string().min(1),
    /** Extra headers; values are templates. */
    headers: z.record(z.string()).default({}),
    /** Milliseconds to wait for the stream's acknowledgement. */
    ackTimeoutMs: z.number().int().min(100).default(5_000),
    retry: retryPolicySchema,
  })
  .strict();

export type NatsDestinationConfig = z.output<typeof natsDestinationSchema>;

export const natsDestinationSpec: DestinationSpec<typeof natsDestinationSchema> = {
  type: 'nats',
  schema: natsDestinationSchema,
  templates: (c) => [[['subject'], c.subject], ...headerTemplates(c.headers)],
};
