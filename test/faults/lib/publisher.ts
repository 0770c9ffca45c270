import { connect, IConnackPacket, MqttClient, Packet } from 'mqtt';
import { Scope, sleep, withTimeout } from './scope';

export interface PublisherOptions {
  readonly url: string;
  /** Fixed client id: the publisher keeps a persistent session across broker restarts. */
  readonly clientId: string;
  readonly qos: 1 | 2;
  /** Message `seq` goes to `topics[seq % topics.length]`; its payload is the decimal `seq`. */
  readonly topics: readonly string[];
  readonly count: number;
  readonly ratePerSecond: number;
  readonly window: number;
}

export interface PublisherStats {
  /** Publishes the broker acknowledged (PUBACK for QoS 1, PUBCOMP for QoS 2): what counts as sent. */
  readonly acked: number;
  /** Sequence numbers handed to the client at least once. */
  readonly published: number;
  /** Published but never acknowledged when the publisher gave up (not counted as sent). */
  readonly unacked: number;
  /** PUBLISH packets written again for a sequence number (session resend on reconnect, or republish after an error). */
  readonly resentPackets: number;
  /** Publishes whose callback failed (e.g. a negative PUBACK) and that were published again. */
  readonly republished: number;
  readonly connects: number;
  readonly lastError?: string;
}

/**
 * A numbered stream at QoS 1 or 2, paced at a fixed rate with a bounded window of unacknowledged
 * publishes, on one MQTT 5 connection with a persistent session (clean start off, session
 * expiry 1 h).
 *
 * Robust against broker restarts: on every reconnect MQTT.js first resends, from its outgoing
 * store, every PUBLISH not yet PUBACKed (QoS 1) or PUBRECed (QoS 2), with the same packet id and
 * the DUP flag, and every PUBREL not yet PUBCOMPed; a QoS 2 message the broker already stored is
 * therefore not stored twice. A publish that ends in an error (negative acknowledgement,
 * connection forcibly closed) is published again. Only acknowledged publishes count as sent.
 */
export class SequencePublisher {
  private readonly ackedSeqs: Uint8Array;
  private readonly sentPackets: Uint8Array;
  private ackedCount = 0;
  private next = 0;
  private outstanding = 0;
  private readonly retry: number[] = [];
  private window: number;
  private startedAt = 0;
  private resent = 0;
  private republished = 0;
  private connects = 0;
  private lastError?: string;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: PublisherOptions,
    connack: IConnackPacket,
  ) {
    this.ackedSeqs = new Uint8Array(options.count);
    this.sentPackets = new Uint8Array(options.count);
    this.window = options.window;
    this.onConnack(connack);
    client.on('connect', (packet) => this.onConnack(packet));
    client.on('error', (error) => (this.lastError = error.message));
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd !== 'publish') return;
      const seq = Number(packet.payload.toString());
      if (!Number.isInteger(seq) || seq < 0 || seq >= options.count) return;
      if (this.sentPackets[seq]) this.resent++;
      else this.sentPackets[seq] = 1;
    });
  }

  static async connect(options: PublisherOptions, timeoutMs = 15_000): Promise<SequencePublisher> {
    const client = connect(options.url, {
      protocolVersion: 5,
      clientId: options.clientId,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 250,
      connectTimeout: 5_000,
      keepalive: 10,
      resubscribe: false,
    });
    try {
      const connack = await withTimeout(
        new Promise<IConnackPacket>((resolve) => client.once('connect', resolve)),
        timeoutMs,
        `publisher ${options.clientId}: connect to ${options.url}`,
      );
      return new SequencePublisher(client, options, connack);
    } catch (error) {
      client.end(true);
      throw error;
    }
  }

  get qos(): 1 | 2 {
    return this.options.qos;
  }

  /** Acknowledged so far. */
  get acked(): number {
    return this.ackedCount;
  }

  /** Sequence numbers the broker acknowledged. */
  ackedSet(): Set<number> {
    const set = new Set<number>();
    this.ackedSeqs.forEach((v, seq) => v && set.add(seq));
    return set;
  }

  stats(): PublisherStats {
    return {
      acked: this.ackedCount,
      published: this.next,
      unacked: this.next - this.ackedCount,
      resentPackets: this.resent,
      republished: this.republished,
      connects: this.connects,
      lastError: this.lastError,
    };
  }

  /**
   * Publishes the whole stream at the configured rate (catching up as fast as the window allows
   * after a stall) and resolves once every message is acknowledged, or when `timeoutMs` passed
   * (what is unacknowledged then is not counted as sent).
   */
  async run(scope: Scope, timeoutMs: number): Promise<void> {
    this.startedAt = Date.now();
    const deadline = this.startedAt + timeoutMs;
    while (this.ackedCount < this.options.count && Date.now() < deadline) {
      scope.check();
      this.pump();
      await sleep(5);
    }
  }

  /** Closes the connection at once (the session stays with the broker, which the scenario destroys). */
  async close(): Promise<void> {
    await withTimeout(this.client.endAsync(true), 5_000, `closing publisher ${this.options.clientId}`).catch(() => undefined);
  }

  private onConnack(connack: IConnackPacket): void {
    this.connects++;
    // Mosquitto refuses (and disconnects) a client exceeding its receive maximum.
    const receiveMaximum = connack.properties?.receiveMaximum;
    this.window = Math.max(1, Math.min(this.options.window, receiveMaximum ?? this.options.window));
  }

  private pump(): void {
    if (!this.client.connected) return;
    const { count, ratePerSecond } = this.options;
    const due = Math.min(count, Math.floor(((Date.now() - this.startedAt) / 1000) * ratePerSecond) + 1);
    while (this.outstanding < this.window && (this.retry.length > 0 || this.next < due)) {
      const seq = this.retry.length > 0 ? this.retry.shift()! : this.next++;
      this.publish(seq);
    }
  }

  private publish(seq: number): void {
    const { topics, qos } = this.options;
    this.outstanding++;
    this.client.publish(topics[seq % topics.length], String(seq), { qos }, (error) => {
      this.outstanding--;
      if (error) {
        this.lastError = error.message;
        this.republished++;
        this.retry.push(seq);
        return;
      }
      if (!this.ackedSeqs[seq]) {
        this.ackedSeqs[seq] = 1;
        this.ackedCount++;
      }
    });
  }
}
