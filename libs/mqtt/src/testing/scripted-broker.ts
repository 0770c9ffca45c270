import { Duplex } from 'node:stream';
import { IClientOptions, MqttClient } from 'mqtt';
// mqtt-packet is MQTT.js's own codec (a dependency of the pinned mqtt); only tests use it directly.
import { generate, IConnectPacket, IPublishPacket, Packet, parser } from 'mqtt-packet';
import { MqttClientFactory } from '../mqtt.client-factory';

const V5 = { protocolVersion: 5 };

/**
 * An MQTT 5 broker, in memory, that does exactly what a test scripts: it answers CONNECT,
 * SUBSCRIBE, PUBLISH, PUBREC and PUBREL, records every packet the client sends, and publishes
 * whatever the test asks, whatever quota the client advertised. No sockets, no timing.
 * Pushing ignores back-pressure, like kernel socket buffers: the client reads when it is ready.
 */
export class ScriptedBroker {
  /** Every packet the client sent, in order. */
  readonly received: Packet[] = [];
  connect?: IConnectPacket;
  private stream?: Duplex;

  /** A client factory whose clients talk to this broker. */
  factory(): MqttClientFactory {
    return { createClient: (_url: string, options: IClientOptions) => new MqttClient(() => this.open(), options) };
  }

  /** Sends PUBLISH packets with the given ids at once. */
  publish(topic: string, qos: 1 | 2, ids: readonly number[]): void {
    for (const messageId of ids) {
      this.send({ cmd: 'publish', topic, payload: Buffer.from(String(messageId)), qos, messageId, retain: false, dup: false });
    }
  }

  /** Ids of the acknowledgements of one kind the client sent, in order. */
  acknowledged(cmd: 'puback' | 'pubrec' | 'pubcomp'): number[] {
    return this.received.filter((p) => p.cmd === cmd).map((p) => (p as { messageId: number }).messageId);
  }

  /** Drops the network connection, as a broker restart or a network failure would. */
  drop(): void {
    this.stream?.destroy();
  }

  /** Packets the client sent since its last CONNECT. */
  get sinceLastConnect(): Packet[] {
    const last = this.received.map((p) => p.cmd).lastIndexOf('connect');
    return this.received.slice(last + 1);
  }

  get closed(): boolean {
    return this.received.some((p) => p.cmd === 'disconnect') || (this.stream?.destroyed ?? false);
  }

  private open(): Duplex {
    const parse = parser(V5);
    parse.on('packet', (packet: Packet) => this.onPacket(packet));
    const stream = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer, _encoding, callback) => {
        parse.parse(chunk);
        callback();
      },
    });
    this.stream = stream;
    return stream;
  }

  private onPacket(packet: Packet): void {
    this.received.push(packet);
    switch (packet.cmd) {
      case 'connect':
        this.connect = packet;
        this.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
        break;
      case 'subscribe':
        this.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) });
        break;
      case 'publish':
        if (packet.qos === 1) this.send({ cmd: 'puback', messageId: packet.messageId });
        if (packet.qos === 2) this.send({ cmd: 'pubrec', messageId: packet.messageId });
        break;
      case 'pubrel':
        this.send({ cmd: 'pubcomp', messageId: packet.messageId });
        break;
      case 'pubrec':
        this.send({ cmd: 'pubrel', messageId: packet.messageId });
        break;
      case 'disconnect':
        // As a broker does: close the network connection (MQTT.js waits for that on end()).
        this.stream?.destroy();
        break;
      default:
        break;
    }
  }

  private send(packet: Packet | IPublishPacket): void {
    this.stream?.push(generate(packet, V5));
  }
}
