import { Admin, Kafka } from 'kafkajs';
import { Publisher } from './publisher';

/** Everything a measurement needs: brokers, shared clients, naming. */
export interface RunEnv {
  readonly mqttUrl: string;
  readonly kafkaBrokers: readonly string[];
  /** kafkajs client with the bridge's client settings (for limit B, the latency consumer). */
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly publisher: Publisher;
  /** Unique per benchmark run: topic names never collide with an earlier run on a reused broker. */
  readonly runId: string;
  /** Partitions of every Kafka topic the benchmark creates. */
  readonly partitions: number;
  /** Broker processes (when started here) for the CPU figures. */
  readonly brokerPids: Readonly<Record<string, number | undefined>>;
  /** Scratch directory (worker configuration files). */
  readonly tmpDir: string;
  /** Kafka topics created so far (deleted at the end on a reused cluster). */
  readonly createdTopics: string[];
}

export function mqttPrefix(env: RunEnv, name: string): string {
  return `bench/${env.runId}/${name}`;
}

export function kafkaTopic(env: RunEnv, name: string): string {
  return `bench.${env.runId}.${name}`;
}

/** Creates a Kafka topic with `env.partitions` partitions and waits for its leaders. */
export async function createTopic(env: RunEnv, topic: string): Promise<void> {
  await env.admin.createTopics({
    topics: [{ topic, numPartitions: env.partitions, replicationFactor: -1 }],
    waitForLeaders: true,
  });
  env.createdTopics.push(topic);
  // Metadata of a brand-new topic can lag behind waitForLeaders on the broker side.
  for (let i = 0; i < 50; i++) {
    const offsets = await env.admin.fetchTopicOffsets(topic).catch(() => []);
    if (offsets.length === env.partitions) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`topic ${topic}: partitions not available after creation`);
}
