import { EventEmitter } from 'node:events';
import type { ChannelModel, Options } from 'amqplib';
import { AmqpClientFactory } from '../amqp.client-factory';

type Confirm = (error: Error | null) => void;

export interface StoredAmqpMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/**
 * RabbitMQ as amqplib shows it to the destination, in memory: connections that refuse while the
 * broker is down, confirm channels that ack, hold (stalled) or return (unroutable) publishes,
 * and a channel closed with 404 NOT_FOUND for a missing exchange, as the real broker does.
 */
export class FakeAmqpBroker {
  up = true;
  /** false: publishes are neither acked nor nacked (a broker that stopped answering). */
  confirming = true;
  /** Exchanges that exist ('' is the default exchange). */
  readonly exchanges = new Set<string>(['']);
  /** Routing keys no queue is bound to: their messages come back (basic.return). */
  readonly unroutable = new Set<string>();
  /** Messages routed to a queue. */
  readonly stored: StoredAmqpMessage[] = [];
  readonly connections: FakeAmqpConnection[] = [];
  /** Channels the destination opened (confirm and passive-check ones). */
  channelsOpened = 0;

  factory(): AmqpClientFactory {
    return {
      createClient: async () => {
        if (!this.up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), { code: 'ECONNREFUSED' });
        const connection = new FakeAmqpConnection(this);
        this.connections.push(connection);
        return connection as unknown as ChannelModel;
      },
    };
  }

  /** The broker goes away: open connections close, new ones are refused. */
  stop(): void {
    this.up = false;
    for (const connection of this.connections) connection.drop();
  }

  holds(payload: string): boolean {
    return this.stored.some((m) => m.content.toString() === payload);
  }
}

class FakeAmqpConnection extends EventEmitter {
  private open = true;
  private readonly channels = new Set<FakeAmqpChannel>();

  constructor(readonly broker: FakeAmqpBroker) {
    super();
  }

  async createConfirmChannel(): Promise<FakeAmqpChannel> {
    return this.createChannel();
  }

  async createChannel(): Promise<FakeAmqpChannel> {
    if (!this.open) throw new Error('Connection closed');
    const channel = new FakeAmqpChannel(this.broker, () => this.channels.delete(channel));
    this.channels.add(channel);
    this.broker.channelsOpened++;
    return channel;
  }

  async close(): Promise<void> {
    this.drop();
  }

  drop(): void {
    if (!this.open) return;
    this.open = false;
    for (const channel of [...this.channels]) channel.end();
    this.emit('close');
  }
}

class FakeAmqpChannel extends EventEmitter {
  private closed = false;
  private readonly unconfirmed = new Set<Confirm>();

  constructor(
    private readonly broker: FakeAmqpBroker,
    private readonly onEnd: () => void,
  ) {
    super();
  }

  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, confirm: Confirm): boolean {
    if (this.closed) throw new Error('Channel closed');
    this.unconfirmed.add(confirm);
    const { broker } = this;
    if (!broker.exchanges.has(exchange)) {
      setImmediate(() => this.closeByServer(404, `NOT_FOUND - no exchange '${exchange}' in vhost '/'`));
      return true;
    }
    if (!broker.confirming) return true;
    setImmediate(() => {
      if (this.closed) return;
      if (options.mandatory && broker.unroutable.has(routingKey)) {
        this.emit('return', { fields: { exchange, routingKey, replyCode: 312, replyText: 'NO_ROUTE' }, properties: { messageId: options.messageId }, content });
      } else {
        broker.stored.push({ exchange, routingKey, content, options });
      }
      this.unconfirmed.delete(confirm);
      confirm(null);
    });
    return true;
  }

  async checkExchange(exchange: string): Promise<{ exchange: string }> {
    if (this.closed) throw new Error('Channel closed');
    if (this.broker.exchanges.has(exchange)) return { exchange };
    const error = this.closeByServer(404, `NOT_FOUND - no exchange '${exchange}' in vhost '/'`);
    throw Object.assign(new Error(`Operation failed: ExchangeDeclare; ${error.message}`), { code: 404 });
  }

  async close(): Promise<void> {
    this.end();
  }

  /** As amqplib does for a channel.close from the broker: an error event, then close. */
  private closeByServer(code: number, text: string): Error {
    const error = Object.assign(new Error(`Channel closed by server: ${code} (${text})`), { code });
    this.emit('error', error);
    this.end();
    return error;
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    const lost = new Error('channel closed');
    for (const confirm of this.unconfirmed) confirm(lost);
    this.unconfirmed.clear();
    this.onEnd();
    this.emit('close');
  }
}
