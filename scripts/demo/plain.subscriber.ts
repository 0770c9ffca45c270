import { connectAsync, MqttClient } from 'mqtt';
import { pollUntil } from './poll-until';

export interface ReceivedCopy {
  readonly topic: string;
  readonly payload: Buffer;
}

/**
 * An ordinary MQTT client with an ordinary subscription: what anyone allowed on the broker
 * (or the broker itself) gets to see of the devices' traffic.
 */
export class PlainSubscriber {
  readonly received: ReceivedCopy[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.received.push({ topic, payload }));
  }

  static async subscribe(url: string, protocol: 4 | 5, filter: string): Promise<PlainSubscriber> {
    const client = await connectAsync(url, { protocolVersion: protocol, clientId: `demo-onlooker-${process.pid}` });
    const subscriber = new PlainSubscriber(client);
    await client.subscribeAsync(filter, { qos: 1 });
    return subscriber;
  }

  /** Resolves with what arrived once `count` copies did, or when `timeoutMs` ran out. */
  async waitFor(count: number, timeoutMs: number): Promise<readonly ReceivedCopy[]> {
    await pollUntil(() => this.received.length >= count, timeoutMs);
    return this.received;
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}
