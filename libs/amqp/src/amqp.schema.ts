import { z } from 'zod';
import { DestinationSpec, headerTemplates, retryPolicySchema } from '@app/core';

/** A rule destination of type `amqp`: RabbitMQ (AMQP 0-9-1) with publisher confirms. */
export const amqpDestinationSchema = z
  .object({
    type: z.literal('amqp'),
    url: z.string().regex(/^amqps?:\/\/\S+$/, 'expected an AMQP URL such as amqp://user:pass@host:5672/vhost'),
    /** Template; '' is the default exchange (the routing key is then a queue name). */
    exchange: z.string().default(''),
    /** Template. */
    routingKey: z.string().min(1),
    /** Persistent messages (delivery mode 2) survive a broker restart in durable queues. */
    persistent: z.boolean().default(true),
    /** Extra headers; values are templates. */
    headers: z.record(z.string()).default({}),
    retry: retryPolicySchema,
  })
  .strict();

export type AmqpDestinationConfig = z.output<typeof amqpDestinationSchema>;

export const amqpDestinationSpec: DestinationSpec<typeof amqpDestinationSchema> = {
  type: 'amqp',
  schema: amqpDestinationSchema,
  templates: (c) => [[['exchange'], c.exchange], [['routingKey'], c.routingKey], ...headerTemplates(c.headers)],
};
