import { Injectable, Logger } from '@nestjs/common';
import { connect, ConnectionOptions, headers as natsHeaders, JetStreamClient, NatsConnection } from 'nats';
import { z } from 'zod';
import { Destination, DestinationRejectedError, DestinationUnavailableError, OutboundRecord, retryPolicySchema, withRetries } from '@app/core';
import { CompiledTemplate, compileTemplate } from '@app/topic';

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

/** The seam between the bridge and nats.js: tests replace `createConnection`. */
@Injectable()
export class NatsClientFactory {
  createConnection(options: ConnectionOptions): Promise<NatsConnection> {
    return connect(options);
  }
}

const VALID_SUBJECT = /^[^\s*>.]+(\.[^\s*>.]+)*$/;

/**
 * Publishes to NATS JetStream: `write` resolves with the stream's acknowledgement (so the
 * message is stored), and a timeout or a lost connection is retried. nats.js reconnects by
 * itself. A subject no stream captures is refused for good (`no-stream`).
 */
export class NatsDestination implements Destination {
  private readonly log = new Logger(NatsDestination.name);
  private readonly subject: CompiledTemplate;
  private readonly headers: ReadonlyArray<readonly [string, CompiledTemplate]>;
  private connection?: NatsConnection;
  private jetstream?: JetStreamClient;

  constructor(
    readonly name: string,
    private readonly config: NatsDestinationConfig,
    private readonly factory: NatsClientFactory,
    captures: readonly string[],
  ) {
    this.subject = compileTemplate(config.subject, captures);
    this.headers = Object.entries(config.headers).map(([name, value]) => [name, compileTemplate(value, captures)] as const);
  }

  async connect(): Promise<void> {
    const { servers, user, pass, token } = this.config;
    this.connection = await this.factory.createConnection({ servers, user, pass, token, maxReconnectAttempts: -1, name: 'mqtt-bridge' });
    this.jetstream = this.connection.jetstream();
    void this.connection.closed().then((error) => {
      if (error) this.log.error({ msg: 'NATS connection closed', destination: this.name, detail: error.message });
    });
  }

  async write(record: OutboundRecord): Promise<void> {
    const jetstream = this.jetstream;
    if (!jetstream) throw new DestinationUnavailableError(`NATS destination ${this.name} is not connected`);
    const subject = this.address(record);
    const payload = record.payload(subject);
    const h = natsHeaders();
    const { message } = record;
    h.set('mqtt.topic', message.topic);
    h.set('mqtt.qos', String(message.qos));
    h.set('mqtt.retain', String(message.retain));
    h.set('bridge.rule', record.rule);
    for (const [name, value] of Object.entries(message.properties.userProperties ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) h.append(`mqtt.user.${name}`, v);
    }
    for (const [name, value] of Object.entries(record.headers)) h.set(name, value.toString());
    for (const [name, template] of this.headers) h.set(name, template.render(record.context));
    await withRetries(this.config.retry, async () => {
      try {
        await jetstream.publish(subject, payload, { headers: h, timeout: this.config.ackTimeoutMs });
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 503: no responders, i.e. no stream captures the subject. Waiting will not help.
        if (code === '503') throw new DestinationRejectedError(`no JetStream stream captures subject ${subject}`, 'no-stream', { cause: error });
        throw new DestinationUnavailableError(`NATS JetStream: ${(error as Error).message}`, { cause: error });
      }
    });
  }

  describe(record: OutboundRecord): string {
    return `nats subject ${this.address(record)}`;
  }

  async close(): Promise<void> {
    await this.connection?.drain().catch(() => undefined);
  }

  private address(record: OutboundRecord): string {
    const subject = this.subject.render(record.context);
    if (!VALID_SUBJECT.test(subject)) {
      throw new DestinationRejectedError(`rendered NATS subject ${JSON.stringify(subject)} is invalid (no spaces, wildcards or empty tokens)`, 'invalid-topic');
    }
    return subject;
  }
}
