import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import {
  BackgroundLink,
  Destination,
  DestinationPreview,
  DestinationRejectedError,
  DestinationUnavailableError,
  OutboundRecord,
  PreviewHeaderValue,
  withRetries,
} from '@app/core';
import { CompiledTemplate, compileTemplate } from '@app/topic';
import { AmqpClientFactory } from './amqp.client-factory';
import { AmqpDestinationConfig } from './amqp.schema';

/** AMQP reply code of a channel the broker closed because something it names does not exist. */
const NOT_FOUND = 404;
/** Exchanges known to exist are remembered per connection; a bound keeps templated names from growing it for ever. */
const MAX_VERIFIED_EXCHANGES = 1_000;

/**
 * Publishes to a RabbitMQ exchange on a confirm channel with `mandatory`: `write` resolves once
 * the broker confirmed the message (ack) and routed it to at least one queue. A nack or a lost
 * connection is retried; a message no queue is bound for (`unroutable`) and a missing exchange
 * (`no-exchange`) are refused for good, so they are dead-lettered instead of counted as
 * delivered or retried for ever. The MQTT metadata travels as headers (`mqtt.topic`,
 * `mqtt.qos`, `mqtt.retain`, `mqtt.user.*`).
 */
export class AmqpDestination implements Destination {
  private readonly log = new Logger(AmqpDestination.name);
  private readonly exchange: CompiledTemplate;
  private readonly routingKey: CompiledTemplate;
  private readonly headers: ReadonlyArray<readonly [string, CompiledTemplate]>;
  private readonly link: BackgroundLink<ChannelModel>;
  private channel?: Promise<ConfirmChannel>;
  private readonly verifiedExchanges = new Set<string>();
  /** Message ids the broker returned as unroutable; their confirm follows the return. */
  private readonly returned = new Set<string>();

  constructor(
    readonly name: string,
    private readonly config: AmqpDestinationConfig,
    private readonly factory: AmqpClientFactory,
    captures: readonly string[],
  ) {
    this.exchange = compileTemplate(config.exchange, captures);
    this.routingKey = compileTemplate(config.routingKey, captures);
    this.headers = Object.entries(config.headers).map(([name, value]) => [name, compileTemplate(value, captures)] as const);
    this.link = new BackgroundLink({
      what: `RabbitMQ destination ${name} (${redact(config.url)})`,
      policy: config.retry,
      log: this.log,
      open: () => this.open(),
      dispose: (connection) => connection.close().catch(() => undefined),
    });
  }

  get up(): boolean {
    return this.link.up;
  }

  /** Resolves at once: the connection is made in the background (see BackgroundLink). */
  async connect(): Promise<void> {
    this.link.start();
  }

  async write(record: OutboundRecord): Promise<void> {
    const { exchange, routingKey, address, headers } = this.outgoing(record);
    const payload = record.payload(address);
    const { message } = record;
    const options: Options.Publish = {
      // Names the message in a basic.return (which carries no delivery tag), and stays the same
      // across retries so consumers can drop a duplicate left by a lost confirm.
      messageId: randomBytes(12).toString('hex'),
      mandatory: true,
      persistent: this.config.persistent,
      headers,
      contentType: message.properties.contentType,
      correlationId: message.properties.correlationData?.toString('base64'),
      timestamp: Math.floor(Date.now() / 1000),
    };
    await withRetries(
      this.config.retry,
      () =>
        this.link.untilClosed(
          (async () => {
            const channel = await this.confirmChannel();
            await this.verifyExchange(exchange);
            await this.publish(channel, exchange, routingKey, payload, options);
          })(),
        ),
      this.link.signal,
    );
  }

  describe(record: OutboundRecord): DestinationPreview {
    const { exchange, routingKey, address, headers } = this.outgoing(record);
    return { summary: `amqp exchange ${JSON.stringify(exchange)} routing key ${routingKey}`, address, headers };
  }

  /** Ends every write still waiting (ShutdownError) and closes the connection. */
  async close(): Promise<void> {
    await this.link.close();
  }

  private async open(): Promise<ChannelModel> {
    let connection: ChannelModel;
    try {
      connection = await this.factory.createClient(this.config.url);
    } catch (error) {
      throw new DestinationUnavailableError(`RabbitMQ ${redact(this.config.url)} unreachable: ${(error as Error).message}`, { cause: error });
    }
    connection.on('error', (error: Error) => this.log.warn({ msg: 'RabbitMQ connection error', destination: this.name, detail: error.message }));
    // amqplib does not reconnect: a closed connection is replaced through the link.
    connection.on('close', () => {
      this.channel = undefined;
      this.verifiedExchanges.clear();
      this.link.lost(connection);
    });
    return connection;
  }

  /** One confirm channel per connection, opened again after the broker closed it (for example a 404). */
  private confirmChannel(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const opening: Promise<ConfirmChannel> = (async () => {
      const connection = await this.link.get(this.config.retry.maxMs);
      let channel: ConfirmChannel;
      try {
        channel = await connection.createConfirmChannel();
      } catch (error) {
        throw new DestinationUnavailableError(`RabbitMQ channel: ${(error as Error).message}`, { cause: error });
      }
      channel.on('return', (returned: { properties: { messageId?: string } }) => {
        if (returned.properties.messageId) this.returned.add(returned.properties.messageId);
      });
      channel.on('error', (error: Error & { code?: number }) => {
        // The exchange may have been deleted: every exchange is checked again before its next publish.
        if (error.code === NOT_FOUND) this.verifiedExchanges.clear();
        this.log.warn({ msg: 'RabbitMQ channel closed by the broker', destination: this.name, detail: error.message });
      });
      channel.on('close', () => {
        if (this.channel === opening) this.channel = undefined;
      });
      return channel;
    })();
    this.channel = opening;
    opening.catch(() => {
      if (this.channel === opening) this.channel = undefined;
    });
    return opening;
  }

  /**
   * Publishing to a missing exchange closes the channel and fails every message in flight on it,
   * without saying which one caused it; a passive check on a channel of its own answers for one
   * exchange, so only that exchange's messages are refused.
   */
  private async verifyExchange(exchange: string): Promise<void> {
    if (exchange === '' || this.verifiedExchanges.has(exchange)) return;
    const connection = await this.link.get(this.config.retry.maxMs);
    let probe;
    try {
      probe = await connection.createChannel();
    } catch (error) {
      throw new DestinationUnavailableError(`RabbitMQ channel: ${(error as Error).message}`, { cause: error });
    }
    // A 404 closes the probe channel with an error event: that is the answer, not a fault.
    probe.on('error', () => undefined);
    try {
      await probe.checkExchange(exchange);
    } catch (error) {
      if ((error as { code?: number }).code === NOT_FOUND) {
        throw new DestinationRejectedError(`RabbitMQ has no exchange ${JSON.stringify(exchange)}`, 'no-exchange', { cause: error });
      }
      throw new DestinationUnavailableError(`RabbitMQ exchange check: ${(error as Error).message}`, { cause: error });
    }
    await probe.close().catch(() => undefined);
    if (this.verifiedExchanges.size >= MAX_VERIFIED_EXCHANGES) this.verifiedExchanges.clear();
    this.verifiedExchanges.add(exchange);
  }

  private publish(channel: ConfirmChannel, exchange: string, routingKey: string, payload: Buffer, options: Options.Publish): Promise<void> {
    const messageId = options.messageId!;
    return new Promise<void>((resolve, reject) => {
      try {
        channel.publish(exchange, routingKey, payload, options, (error) => {
          if (this.returned.delete(messageId)) {
            reject(
              new DestinationRejectedError(
                `RabbitMQ returned the message: no queue is bound to exchange ${JSON.stringify(exchange)} for routing key ${routingKey}`,
                'unroutable',
              ),
            );
          } else if (error) {
            reject(new DestinationUnavailableError(`RabbitMQ did not confirm: ${String(error)}`, { cause: error }));
          } else {
            resolve();
          }
        });
      } catch (error) {
        // The channel closed between taking it and publishing (amqplib throws synchronously); its
        // close event already cleared it, so the retry opens another.
        reject(new DestinationUnavailableError(`RabbitMQ channel: ${(error as Error).message}`, { cause: error }));
      }
    });
  }

  /** Exchange, routing key, the address a sealed payload is bound to, and headers, for `write` and `describe` alike. */
  private outgoing(record: OutboundRecord): { exchange: string; routingKey: string; address: string; headers: Record<string, PreviewHeaderValue> } {
    const routingKey = this.routingKey.render(record.context);
    if (Buffer.byteLength(routingKey) > 255) throw new DestinationRejectedError('rendered AMQP routing key is longer than 255 bytes', 'invalid-topic');
    const exchange = this.exchange.render(record.context);
    const headers: Record<string, PreviewHeaderValue> = { ...amqpHeaders(record), ...record.headers };
    for (const [name, template] of this.headers) headers[name] = template.render(record.context);
    return { exchange, routingKey, address: `${exchange}/${routingKey}`, headers };
  }
}

/** The MQTT metadata as AMQP headers (strings; arrays for repeated user properties). */
function amqpHeaders(record: OutboundRecord): Record<string, PreviewHeaderValue> {
  const { message } = record;
  const headers: Record<string, PreviewHeaderValue> = {
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
