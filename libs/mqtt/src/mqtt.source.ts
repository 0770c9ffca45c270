import { Logger } from '@nestjs/common';
import { IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';
import { DestinationUnavailableError, Inbound, QoS, Source } from '@app/core';
import { AckSequencer, AckTicket } from './ack-sequencer';
import { KeepaliveHold } from './keepalive.hold';
import { MqttClientFactory } from './mqtt.client-factory';
import { assertInternals, interceptSentPackets, releaseInboundQoS2Slot } from './mqtt-js.internals';
import { MqttSourceConfig } from './mqtt.schema';
import { messageFromPublish } from './publish.message';
import { sourceClientOptions, statusPayload } from './source-client.options';

/** One SUBSCRIBE the source keeps at the broker. */
export interface MqttSubscription {
  /** MQTT 5 subscription identifier (1..268435455); unused on 3.1.1. */
  readonly id: number;
  /** Full filter as sent, including any `$share/<group>/` prefix. */
  readonly filter: string;
  readonly qos: QoS;
  /** MQTT 5 retain handling: 0 send retained on subscribe, 1 only for a new subscription, 2 never. */
  readonly retainHandling: 0 | 1 | 2;
}

export interface MqttSourceOptions {
  readonly config: MqttSourceConfig;
  readonly clientId: string;
  readonly subscriptions: readonly MqttSubscription[];
  /** Rendered status topic, when the worker announces itself. */
  readonly statusTopic?: string;
  /** Told about each connection attempt the broker did not accept (for a counter). */
  readonly onConnectFailure?: () => void;
}

/**
 * Subscribes to the broker and hands every message to the pipeline without waiting for it.
 *
 * MQTT.js processes incoming packets one at a time and sends PUBACK/PUBREC when its hooks
 * call back, so waiting for Kafka inside a hook would serialise the stream (MQTT.js #1935).
 * Instead the hooks return at once and the acknowledgement packet MQTT.js then sends is held
 * back by the AckSequencer until the pipeline calls `ack()`, and released in arrival order.
 * QoS 2 is handled when the PUBLISH arrives: PUBREC (not PUBCOMP) is what waits for the
 * destination, so a crash before it makes the broker send the PUBLISH again.
 * Intake is bounded by `maxInFlight` (also advertised as MQTT 5 receive maximum): once that many
 * messages are received and not yet acknowledged *to the broker* (held acknowledgements count),
 * the hook waits, which stops MQTT.js reading the socket. The bound is the bridge's own, so a
 * broker that exceeds the receive maximum (Mosquitto 2.0.11 after a backlog) is slowed by TCP
 * back-pressure instead of growing the held acknowledgements or being disconnected.
 */
export class MqttSource implements Source {
  readonly name = 'mqtt';
  private readonly log = new Logger(MqttSource.name);
  private readonly acks = new AckSequencer();
  private readonly awaitingAck = new Map<number, AckTicket>();
  private readonly capacityWaiters: Array<() => void> = [];
  private client?: MqttClient;
  /** Pings for the connection while intake is held (capacityWaiters not empty). */
  private keepalive?: KeepaliveHold;
  private handler?: (inbound: Inbound) => void;
  private inFlightCount = 0;
  /** QoS 0 messages handed to the pipeline and not yet done (QoS 1/2 are counted by `acks`). */
  private qos0InFlight = 0;
  private closing = false;
  private subscriptions: readonly MqttSubscription[];
  /** Connection attempts that ended before the broker accepted them, since the last success. */
  private failedAttempts = 0;
  private attemptError?: string;
  private lastFailureReason?: string;

  constructor(
    private readonly factory: MqttClientFactory,
    private readonly options: MqttSourceOptions,
  ) {
    this.subscriptions = options.subscriptions;
  }

  /** Messages handed to the pipeline and not yet acknowledged by it. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Milliseconds the oldest unacknowledged QoS 1/2 message has been held (0 with none). */
  get oldestUnacknowledgedMs(): number {
    return this.acks.oldestPendingMs();
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Why the connection is not up, while attempts keep failing: for /health/ready. */
  get connectionProblem(): { failedAttempts: number; reason: string } | undefined {
    return this.connected || this.failedAttempts === 0 ? undefined : { failedAttempts: this.failedAttempts, reason: this.lastFailureReason ?? 'unknown' };
  }

  connect(handler: (inbound: Inbound) => void): Promise<void> {
    this.handler = handler;
    const client = this.factory.createClient(
      this.options.config.url,
      sourceClientOptions(this.options.config, this.options.clientId, this.options.statusTopic),
    );
    this.client = client;
    this.keepalive = new KeepaliveHold(client);
    assertInternals(client);
    this.holdAcknowledgements(client);
    // MQTT.js only honours customHandleAcks on MQTT 5; on 3.1.1 it installs a default that
    // acknowledges at once. Setting it on the live options makes both versions take this path.
    client.options.customHandleAcks = (topic, _message, packet: IPublishPacket, done) => this.onAckablePublish(topic, packet, done);
    // QoS 0 has no acknowledgement to hold; waiting here is what bounds its intake.
    client.handleMessage = (packet, callback) => {
      if (packet.qos === 0) this.whenCapacity(() => callback());
      else callback();
    };
    client.on('message', (topic, payload, packet) => {
      if (packet.qos === 0) this.deliver(topic, packet);
    });
    let accepted = false;
    client.on('close', () => {
      if (!accepted && !this.closing) this.attemptFailed();
      accepted = false;
      // Held acknowledgements belong to the dead connection; the broker redelivers those messages.
      this.acks.reset();
      this.awaitingAck.clear();
      // A hook still waiting for capacity belongs to the dead connection's packet stream; letting
      // it go on later would send its PUBACK/PUBREC on the next connection, for another message.
      this.capacityWaiters.length = 0;
      this.keepalive?.release();
    });
    client.on('offline', () => this.log.warn(`disconnected from ${this.options.config.url}; reconnecting`));
    return new Promise<void>((resolve, reject) => {
      let first = true;
      client.on('error', (error) => {
        this.log.error(`MQTT error: ${error.message}`);
        this.attemptError = error.message;
        const refused = (error as { code?: number }).code;
        if (first && typeof refused === 'number' && refused > 0) {
          first = false;
          client.end(true);
          reject(new Error(`MQTT broker ${this.options.config.url} refused the connection: ${error.message}`));
        }
      });
      client.on('connect', (connack) => {
        accepted = true;
        this.failedAttempts = 0;
        this.attemptError = undefined;
        this.onConnect(client, connack.sessionPresent).then(
          () => {
            if (first) {
              first = false;
              resolve();
            }
          },
          (error: Error) => {
            this.log.error(error.message);
            if (first) {
              first = false;
              client.end(true);
              reject(error);
            }
          },
        );
      });
    });
  }

  /**
   * Publishes on the source connection and resolves when the broker confirmed it. While the
   * connection is down it refuses at once with a retriable error, so the caller's retry policy
   * (not MQTT.js's offline queue) decides when to try again.
   */
  async publish(topic: string, payload: Buffer, options: IClientPublishOptions, timeoutMs = 10_000): Promise<void> {
    if (!this.client?.connected) throw new DestinationUnavailableError('MQTT source broker is not connected');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      // A publish whose acknowledgement got lost with a connection must not wait forever.
      timer = setTimeout(() => reject(new DestinationUnavailableError(`no acknowledgement from the MQTT broker within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.client.publishAsync(topic, payload, options), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(drainTimeoutMs = 10_000): Promise<void> {
    const client = this.client;
    if (!client) return;
    // Leave shared groups first, still taking what arrives meanwhile: a persistent session that
    // stays a member would keep being assigned its share of the stream while this worker is away.
    const shared = this.subscriptions.filter((s) => s.filter.startsWith('$share/')).map((s) => s.filter);
    if (shared.length > 0 && client.connected) await client.unsubscribeAsync(shared).catch(() => undefined);
    this.closing = true;
    this.releaseCapacity();
    const deadline = Date.now() + drainTimeoutMs;
    while (this.inFlightCount > 0 && Date.now() < deadline && client.connected) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (this.options.statusTopic && client.connected) {
      await client
        .publishAsync(this.options.statusTopic, statusPayload('offline', this.options.clientId), {
          qos: this.options.config.status?.qos ?? 1,
          retain: this.options.config.status?.retain ?? true,
        })
        .catch(() => undefined);
    }
    await client.endAsync(false);
    this.keepalive?.release();
    this.client = undefined;
  }

  /**
   * A connection attempt ended before a CONNACK accepted it. A broker that refuses a protocol
   * error (a client id it does not take, a bad packet) just closes the socket: every attempt is
   * logged with what is known, so a connection that can never succeed does not retry in silence.
   */
  private attemptFailed(): void {
    this.failedAttempts++;
    this.lastFailureReason = this.attemptError ?? 'the broker closed the connection before accepting it (a protocol error or a client id it refuses?)';
    this.attemptError = undefined;
    this.options.onConnectFailure?.();
    this.log.warn(`connection to ${this.options.config.url} as ${this.options.clientId} failed (attempt ${this.failedAttempts}): ${this.lastFailureReason}`);
  }

  private async onConnect(client: MqttClient, sessionPresent: boolean): Promise<void> {
    const { config, statusTopic } = this.options;
    const subscriptions = this.subscriptions;
    this.log.log(`connected to ${config.url} as ${this.options.clientId} (session present: ${sessionPresent})`);
    // A resumed session keeps its subscriptions, except shared ones, which a graceful close
    // removes. Subscribing again is harmless on MQTT 5 (retain handling 1: no retained replay
    // for an existing subscription); on 3.1.1 it would replay retained messages.
    const shared = subscriptions.some((s) => s.filter.startsWith('$share/'));
    if (!sessionPresent || !config.session.persistent || shared || config.protocolVersion === 5) {
      for (const sub of subscriptions) await this.subscribe(client, sub);
    }
    if (statusTopic) {
      await client.publishAsync(statusTopic, statusPayload('online', this.options.clientId), {
        qos: config.status?.qos ?? 1,
        retain: config.status?.retain ?? true,
      });
    }
  }

  /**
   * Moves to a new subscription set without reconnecting: subscribes what is new or changed
   * (same filter, other QoS, retain handling or identifier), then unsubscribes what is gone.
   */
  async updateSubscriptions(next: readonly MqttSubscription[]): Promise<void> {
    const before = new Map(this.subscriptions.map((s) => [s.filter, s]));
    const after = new Set(next.map((s) => s.filter));
    this.subscriptions = next;
    const client = this.client;
    if (!client?.connected) return; // the next connect subscribes the new set
    for (const sub of next) {
      const old = before.get(sub.filter);
      if (!old || old.id !== sub.id || old.qos !== sub.qos || old.retainHandling !== sub.retainHandling) await this.subscribe(client, sub);
    }
    const gone = [...before.keys()].filter((filter) => !after.has(filter));
    if (gone.length > 0) await client.unsubscribeAsync(gone);
  }

  private async subscribe(client: MqttClient, sub: MqttSubscription): Promise<void> {
    const granted = await client.subscribeAsync(
      { [sub.filter]: { qos: sub.qos, rh: sub.retainHandling } },
      this.options.config.protocolVersion === 5 ? { properties: { subscriptionIdentifier: sub.id } } : {},
    );
    const code = granted[0]?.qos ?? 128;
    if (code >= 128) throw new Error(`broker refused subscription ${sub.filter} (reason code ${code})`);
    if (code < sub.qos) this.log.warn(`broker granted QoS ${code} instead of ${sub.qos} for ${sub.filter}`);
  }

  /** customHandleAcks: called for QoS 1 and 2 PUBLISH before MQTT.js acknowledges them. */
  private onAckablePublish(topic: string, packet: IPublishPacket, done: (error: Error | number, code?: number) => void): void {
    if (this.closing) {
      // Not taken: never acknowledged, so the broker keeps it for the next session.
      const ticket = this.acks.track();
      this.awaitingAck.set(packet.messageId ?? -1, ticket);
      done(0);
      return;
    }
    const ticket = this.acks.track();
    this.awaitingAck.set(packet.messageId ?? -1, ticket);
    this.deliver(topic, packet, () => this.acks.complete(ticket));
    this.whenCapacity(() => done(0));
  }

  private deliver(topic: string, packet: IPublishPacket, onAck: () => void = () => undefined): void {
    if (this.closing || !this.handler) return;
    const message = messageFromPublish(topic, packet);
    const ids = packet.properties?.subscriptionIdentifier;
    let acked = false;
    const qos0 = packet.qos === 0;
    this.inFlightCount++;
    if (qos0) this.qos0InFlight++;
    this.handler({
      message,
      subscriptionIds: ids === undefined ? undefined : Array.isArray(ids) ? ids : [ids],
      ack: () => {
        if (acked) return;
        acked = true;
        this.inFlightCount--;
        if (qos0) this.qos0InFlight--;
        onAck();
        this.releaseCapacity();
      },
    });
  }

  /**
   * Messages received and not yet acknowledged to the broker, including the one whose hook is
   * deciding: QoS 1/2 until their PUBACK/PUBREC went out (a done message whose acknowledgement
   * waits for an earlier one still counts), QoS 0 until the pipeline is done with it.
   */
  private get unacknowledged(): number {
    return this.acks.pending + this.qos0InFlight;
  }

  /**
   * Lets MQTT.js read the next packet once at most `maxInFlight` messages, this one included,
   * are unacknowledged. This one's own acknowledgement can only be queued after `proceed`, so it
   * must not wait for itself (`<=`, not `<`).
   */
  private whenCapacity(proceed: () => void): void {
    if (this.capacityWaiters.length === 0 && this.hasCapacity()) proceed();
    else {
      this.capacityWaiters.push(proceed);
      this.keepalive?.hold();
    }
  }

  private releaseCapacity(): void {
    while (this.capacityWaiters.length > 0 && this.hasCapacity()) {
      this.capacityWaiters.shift()!();
    }
    if (this.capacityWaiters.length === 0) this.keepalive?.release();
  }

  /**
   * While closing nothing new is taken (and nothing of it acknowledged), so reading must go on:
   * the acknowledgements of the unsubscribe and of the offline status are behind on the socket.
   */
  private hasCapacity(): boolean {
    return this.closing || this.unacknowledged <= this.options.config.maxInFlight;
  }

  /**
   * Intercepts the PUBACK/PUBREC that MQTT.js sends right after our hook returns and
   * queues it in the AckSequencer; MQTT.js is told it went out so it reads the next packet.
   * When a PUBREC really goes out, MQTT.js's receive-maximum slot for it is freed (see
   * `releaseInboundQoS2Slot`): from then on the message waits only for the broker's PUBREL.
   */
  private holdAcknowledgements(client: MqttClient): void {
    interceptSentPackets(client, (packet, send, cb, next) => {
      const id = packet.messageId;
      const ticket = id === undefined ? undefined : this.awaitingAck.get(id);
      if ((packet.cmd !== 'puback' && packet.cmd !== 'pubrec') || !ticket) return next();
      this.awaitingAck.delete(id!);
      this.acks.attach(ticket, () => {
        if (!client.connected) return;
        send(packet);
        if (packet.cmd === 'pubrec') releaseInboundQoS2Slot(client, id!);
      });
      cb?.();
      // The attach may have released this and later acknowledgements: room for the next packet.
      this.releaseCapacity();
    });
  }
}
