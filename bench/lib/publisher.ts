import { connect, IConnackPacket, MqttClient } from 'mqtt';

/** What to publish: message i goes to `topics[i % topics.length]` with `payload(i, topic)`. */
export interface PublishJob {
  readonly count: number;
  readonly qos: 0 | 1;
  readonly topics: readonly string[];
  readonly payload: (i: number, topic: string) => Buffer;
}

export interface PublishResult {
  readonly count: number;
  /** performance.now() of the first publish call and of the last completion. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly rate: number;
}

/** Largest number of unacknowledged publishes per connection (further capped by the broker's receive maximum). */
const DEFAULT_WINDOW = 64;

/**
 * Several MQTT 5 connections publishing as fast as the broker accepts: each connection keeps
 * a window of outstanding publishes (QoS 1: until PUBACK; QoS 0: until written to the socket,
 * i.e. socket back-pressure), and all of them take the next message from one shared counter.
 */
export class Publisher {
  private constructor(
    private readonly clients: MqttClient[],
    /** Per connection: the broker's receive maximum (CONNACK), capped at DEFAULT_WINDOW. */
    readonly windows: number[],
  ) {}

  static async connect(url: string, connections: number, idPrefix: string): Promise<Publisher> {
    const clients: MqttClient[] = [];
    const windows: number[] = [];
    try {
      for (let c = 0; c < connections; c++) {
        const client = connect(url, { protocolVersion: 5, clean: true, clientId: `${idPrefix}-${c}`, reconnectPeriod: 0, keepalive: 60 });
        clients.push(client);
        const connack = await new Promise<IConnackPacket>((resolve, reject) => {
          client.once('connect', resolve);
          client.once('error', reject);
          client.once('close', () => reject(new Error(`publisher connection to ${url} closed before CONNACK`)));
        });
        client.removeAllListeners('error');
        client.removeAllListeners('close');
        client.on('error', (error) => process.stderr.write(`  [publisher ${c}] ${error.message}\n`));
        windows.push(Math.min(DEFAULT_WINDOW, connack.properties?.receiveMaximum ?? DEFAULT_WINDOW));
      }
    } catch (error) {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      throw error;
    }
    return new Publisher(clients, windows);
  }

  /** Closed loop: publishes `job.count` messages as fast as the broker takes them. */
  publishAll(job: PublishJob): Promise<PublishResult> {
    let next = 0;
    let done = 0;
    const startedAt = performance.now();
    return new Promise<PublishResult>((resolve, reject) => {
      let failed = false;
      const finish = () => {
        const finishedAt = performance.now();
        resolve({ count: job.count, startedAt, finishedAt, rate: job.count / ((finishedAt - startedAt) / 1000) });
      };
      if (job.count === 0) return finish();
      this.clients.forEach((client, c) => {
        const window = job.qos === 0 ? DEFAULT_WINDOW * 4 : this.windows[c];
        let outstanding = 0;
        let pumping = false;
        let again = false;
        const completed = (error?: Error) => {
          if (failed) return;
          if (error) {
            failed = true;
            return reject(error);
          }
          outstanding--;
          if (++done === job.count) return finish();
          pump();
        };
        // MQTT.js may call back synchronously (QoS 0 with room in the socket buffer): no recursion.
        const pump = () => {
          if (pumping) {
            again = true;
            return;
          }
          pumping = true;
          do {
            again = false;
            while (outstanding < window && next < job.count && !failed) {
              const i = next++;
              const topic = job.topics[i % job.topics.length];
              outstanding++;
              client.publish(topic, job.payload(i, topic), { qos: job.qos }, completed);
            }
          } while (again);
          pumping = false;
        };
        pump();
      });
    });
  }

  /**
   * Open loop at a fixed rate (for latency): every millisecond, publishes what is due by then,
   * without waiting for acknowledgements. Resolves once all are acknowledged / written.
   */
  publishAtRate(job: PublishJob, ratePerSecond: number): Promise<PublishResult> {
    const startedAt = performance.now();
    let next = 0;
    let done = 0;
    return new Promise<PublishResult>((resolve, reject) => {
      let failed = false;
      const completed = (error?: Error) => {
        if (failed) return;
        if (error) {
          failed = true;
          clearInterval(timer);
          return reject(error);
        }
        if (++done === job.count) {
          const finishedAt = performance.now();
          resolve({ count: job.count, startedAt, finishedAt, rate: job.count / ((finishedAt - startedAt) / 1000) });
        }
      };
      const tick = () => {
        const due = Math.min(job.count, Math.floor(((performance.now() - startedAt) / 1000) * ratePerSecond) + 1);
        while (next < due) {
          const i = next++;
          const topic = job.topics[i % job.topics.length];
          this.clients[i % this.clients.length].publish(topic, job.payload(i, topic), { qos: job.qos }, completed);
        }
        if (next >= job.count) clearInterval(timer);
      };
      const timer = setInterval(tick, 1);
      tick();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(false).catch(() => c.end(true))));
  }
}

/** `count` topics under `prefix`: prefix/d00 .. prefix/d99. */
export function topicsUnder(prefix: string, count = 100): string[] {
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, i) => `${prefix}/d${String(i).padStart(width, '0')}`);
}
