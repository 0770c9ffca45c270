import { Logger } from '@nestjs/common';
import { Events, headers as natsHeaders, JetStreamClient, MsgHdrs, NatsConnection } from 'nats';
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
import { NatsClientFactory } from './nats.client-factory';
import { NatsDestinationConfig } from './nats.schema';

const VALID_SUBJECT = /^[^\s*>.]+(\.[^\s*>.]+)*$/;
/** How long close() lets a drain take before it drops the connection. */
const DRAIN_MS = 2_000;

interface NatsLink {
  readonly connection: NatsConnection;
  readonly jetstream: JetStreamClient;
}

/**
 * Publishes to NATS JetStream: `write` resolves with the stream's acknowledgement (so the
 * message is stored), and a timeout or a lost connection is retried. The first connection is
 * made in the background (BackgroundLink); after that nats.js reconnects by itself. A subject
 * no stream captures is refused for good (`no-stream`).
 */
export class NatsDestination implements Destination {
  private readonly log = new Logger(NatsDestination.name);
  private readonly subject: CompiledTemplate;
  private readonly headers: ReadonlyArray<readonly [string, CompiledTemplate]>;
  private readonly link: BackgroundLink<NatsLink>;
  /** Between nats.js reporting a disconnect and its reconnect. */
  private reconnecting = false;

  constructor(
    readonly name: string,
    private readonly config: NatsDestinationConfig,
    private readonly factory: NatsClientFactory,
    captures: readonly string[],
  ) {
    this.subject = compileTemplate(config.subject, captures);
    this.headers = Object.entries(config.headers).map(([name, value]) => [name, compileTemplate(value, captures)] as const);
    this.link = new BackgroundLink({
      what: `NATS destination ${name} (${config.servers.join(',')})`,
      policy: config.retry,
      log: this.log,
      open: () => this.open(),
      dispose: (link) => drain(link.connection),
    });
  }

  get up(): boolean {
    return this.link.up && !this.reconnecting;
  }

  /** Resolves at once: the connection is made in the background (see BackgroundLink). */
  async connect(): Promise<void> {
    this.link.start();
  }

  async write(record: OutboundRecord): Promise<void> {
    const { subject, headers: h } = this.outgoing(record);
    const payload = record.payload(subject);
    await withRetries(
      this.config.retry,
      () =>
        this.link.untilClosed(
          (async () => {
            const { jetstream } = await this.link.get(this.config.retry.maxMs);
            try {
              await jetstream.publish(subject, payload, { headers: h, timeout: this.config.ackTimeoutMs });
            } catch (error) {
              const code = (error as { code?: string }).code;
              // 503: no responders, i.e. no stream captures the subject. Waiting will not help.
              if (code === '503') throw new DestinationRejectedError(`no JetStream stream captures subject ${subject}`, 'no-stream', { cause: error });
              throw new DestinationUnavailableError(`NATS JetStream: ${(error as Error).message}`, { cause: error });
            }
          })(),
        ),
      this.link.signal,
    );
  }

  describe(record: OutboundRecord): DestinationPreview {
    const { subject, headers } = this.outgoing(record);
    const shown: Record<string, PreviewHeaderValue> = {};
    for (const name of headers.keys()) {
      const values = headers.values(name);
      shown[name] = values.length === 1 ? values[0] : values;
    }
    return { summary: `nats subject ${subject}`, address: subject, headers: shown };
  }

  /** Ends every write still waiting (ShutdownError), then drains the connection. */
  async close(): Promise<void> {
    await this.link.close();
  }

  private async open(): Promise<NatsLink> {
    const { servers, user, pass, token } = this.config;
    let connection: NatsConnection;
    try {
      connection = await this.factory.createClient({ servers, user, pass, token, maxReconnectAttempts: -1, name: 'mqtt-bridge' });
    } catch (error) {
      throw new DestinationUnavailableError(`NATS ${servers.join(',')} unreachable: ${(error as Error).message}`, { cause: error });
    }
    const link: NatsLink = { connection, jetstream: connection.jetstream() };
    void this.follow(connection);
    void connection.closed().then((error) => {
      if (error) this.log.error({ msg: 'NATS connection closed', destination: this.name, detail: error.message });
      this.link.lost(link);
    });
    return link;
  }

  /** Keeps `up` honest while nats.js reconnects by itself. */
  private async follow(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === Events.Disconnect) this.reconnecting = true;
      if (status.type === Events.Reconnect) this.reconnecting = false;
    }
  }

  /** Subject and headers of the record, for `write` and `describe` alike. */
  private outgoing(record: OutboundRecord): { subject: string; headers: MsgHdrs } {
    const subject = this.subject.render(record.context);
    if (!VALID_SUBJECT.test(subject)) {
      throw new DestinationRejectedError(`rendered NATS subject ${JSON.stringify(subject)} is invalid (no spaces, wildcards or empty tokens)`, 'invalid-topic');
    }
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
    return { subject, headers: h };
  }
}

async function drain(connection: NatsConnection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)));
  await Promise.race([connection.drain().catch(() => undefined), late]);
  clearTimeout(timer);
  if (!connection.isClosed()) await connection.close().catch(() => undefined);
}
