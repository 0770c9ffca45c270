import type { ConnectionOptions, NatsConnection, PubAck } from 'nats';
import { NatsClientFactory } from '../nats.client-factory';

export interface StoredNatsMessage {
  readonly subject: string;
  readonly data: Uint8Array;
}

/**
 * NATS JetStream as nats.js shows it to the destination, in memory: connections refused while
 * the server is down, publishes acknowledged by a stream, answered 503 (no stream captures the
 * subject), or left unanswered until their timeout (a stalled server), with nats.js's error codes.
 */
export class FakeNatsServer {
  up = true;
  /** false: publishes time out (a server that stopped answering). */
  confirming = true;
  /** Subject prefixes a stream captures. */
  readonly streams = new Set<string>(['contract']);
  readonly stored: StoredNatsMessage[] = [];
  readonly connections: FakeNatsConnection[] = [];

  factory(): NatsClientFactory {
    return {
      createClient: async (_options: ConnectionOptions) => {
        if (!this.up) throw Object.assign(new Error('CONNECTION_REFUSED'), { code: 'CONNECTION_REFUSED' });
        const connection = new FakeNatsConnection(this);
        this.connections.push(connection);
        return connection as unknown as NatsConnection;
      },
    };
  }

  holds(payload: string): boolean {
    return this.stored.some((m) => Buffer.from(m.data).toString() === payload);
  }

  async publish(subject: string, data: Uint8Array, timeoutMs: number): Promise<PubAck> {
    if (!this.confirming) {
      await new Promise((r) => setTimeout(r, timeoutMs));
      throw Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });
    }
    if (![...this.streams].some((prefix) => subject.startsWith(`${prefix}.`))) throw Object.assign(new Error('503'), { code: '503' });
    this.stored.push({ subject, data });
    return { stream: 'S', seq: this.stored.length, duplicate: false, domain: '' };
  }
}

class FakeNatsConnection {
  private closedAt?: () => void;
  private readonly done = new Promise<void>((resolve) => (this.closedAt = resolve));
  private isClosedNow = false;

  constructor(private readonly server: FakeNatsServer) {}

  jetstream() {
    return {
      publish: (subject: string, data: Uint8Array, options: { timeout: number }) => this.server.publish(subject, data, options.timeout),
    };
  }

  closed(): Promise<void | Error> {
    return this.done;
  }

  isClosed(): boolean {
    return this.isClosedNow;
  }

  /** No status changes until closed: the fake never reconnects. */
  async *status(): AsyncIterable<{ type: string }> {
    await this.done;
  }

  async drain(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    this.isClosedNow = true;
    this.closedAt?.();
  }
}
