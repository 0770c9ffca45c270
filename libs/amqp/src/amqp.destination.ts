import { Injectable, Logger } from '@nestjs/common';
import { ChannelModel, ConfirmChannel, connect } from 'amqplib';
import { z } from 'zod';
import { Destination, DestinationRejectedError, DestinationUnavailableError, OutboundRecord, retryPolicySchema, withRetries } from '@app/core';
import { CompiledTemplate, compileTemplate } from '@app/topic';

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

/** The seam between the bridge and amqplib: tests replace `createConnection`. */
@Injectable()
export class AmqpClientFactory {
  createConnection(url: string): Promise<ChannelModel> {
    return connect(url);
  }
}

/**
 * Publishes to a RabbitMQ exchange on a confirm channel: `write` resolves when the broker
 * confirmed the message (ack), and a nack or a lost connection is retried. The MQTT metadata
 * travels as headers (`mqtt.topic`, `mqtt.qos`, `mqtt.retain`, `mqtt.user.*`).
 */
export class AmqpDestination implements Destination {
  private readonly log = new Logger(AmqpDestination.name);
  private readonly exchange: CompiledTemplate;
  private readonly routingKey: CompiledTemplate;
  private readonly headers: ReadonlyArray<readonly [string, CompiledTemplate]>;
  private channel?: Promise<ConfirmChannel>;
  private connection?: ChannelModel;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly config: AmqpDestinationConfig,
    private readonly factory: AmqpClientFactory,
    captures: readonly string[],
  ) {
    this.exchange = compileTemplate(config.exchange, captures);
    this.routingKey = compileTemplate(config.routingKey, captures);
    this.headers = Object.entries(config.headers).map(([name, value]) => [name, compileTemplate(value, captures)] as const);
  }

  async connect(): Promise<void> {
    await this.openChannel();
  }

  async write(record: OutboundRecord): Promise<void> {
    const { exchange, routingKey } = this.address(record);
    const payload = record.payload(`${exchange}/${routingKey}`);
    const headers: Record<string, unknown> = { ...amqpHeaders(record), ...record.headers };
    for (const [name, template] of this.headers) headers[name] = template.render(record.context);
    const { message } = record;
    await withRetries(this.config.retry, async () => {
      const channel = await this.openChannel();
      await new Promise<void>((resolve, reject) => {
        channel.publish(
          exchange,
          routingKey,
          payload,
          {
            persistent: this.config.persistent,
            headers,
            contentType: message.properties.contentType,
            correlationId: message.properties.correlationData?.toString('base64'),
            timestamp: Math.floor(Date.now() / 1000),
          },
          (error) => (error ? reject(new DestinationUnavailableError(`RabbitMQ did not confirm: ${String(error)}`)) : resolve()),
        );
      });
    });
  }

  describe(record: OutboundRecord): string {
    const { exchange, routingKey } = this.address(record);
    return `amqp exchange ${JSON.stringify(exchange)} routing key ${routingKey}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connection?.close().catch(() => undefined);
  }

  /** One confirm channel, reopened after the connection or the channel is lost. */
  private openChannel(): Promise<ConfirmChannel> {
    if (this.closed) return Promise.reject(new DestinationUnavailableError(`${this.name} is closed`));
    this.channel ??= (async () => {
      try {
        const connection = await this.factory.createConnection(this.config.url);
        this.connection = connection;
        const reset = () => {
          this.channel = undefined;
        };
        connection.on('close', reset);
        connection.on('error', (error: Error) => this.log.warn({ msg: 'RabbitMQ connection error', destination: this.name, detail: error.message }));
        const channel = await connection.createConfirmChannel();
        // A channel error (for example a missing exchange) closes the channel, not the connection.
        channel.on('close', reset);
        channel.on('error', (error: Error) => this.log.warn({ msg: 'RabbitMQ channel error', destination: this.name, detail: error.message }));
        return channel;
      } catch (error) {
        this.channel = undefined;
        throw new DestinationUnavailableError(`RabbitMQ ${redact(this.config.url)} unreachable: ${(error as Error).message}`, { cause: error });
      }
    })();
    return this.channel;
  }

  private address(record: OutboundRecord): { exchange: string; routingKey: string } {
    const routingKey = this.routingKey.render(record.context);
    if (Buffer.byteLength(routingKey) > 255) throw new DestinationRejectedError('rendered AMQP routing key is longer than 255 bytes', 'invalid-topic');
    return { exchange: this.exchange.render(record.context), routingKey };
  }
}

/** The MQTT metadata as AMQP headers (strings; arrays for repeated user properties). */
function amqpHeaders(record: OutboundRecord): Record<string, unknown> {
  const { message } = record;
  const headers: Record<string, unknown> = {
    'mqtt.topic': message.topic,
    'mqtt.qos': message.qos,
    'mqtt.retain': message.retain,
    'bridge.rule': record.rule,
  };
  for (const [name, value] of Object.entries(message.properties.userProperties ?? {})) headers[`mqtt.user.${name}`] = value;
  return headers;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
