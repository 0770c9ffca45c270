import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type IHeaders, type KafkaConfig } from 'kafkajs';
import { sleep } from './proc';

/* Talking to a test cluster: quiet clients, which cluster, reading a topic back. */

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface ConsumeOptions {
  /** Resolve once this many messages arrived. */
  count: number;
  /** Reject after this long (default 30 s) with how many arrived. */
  timeoutMs?: number;
  /** After `count` arrived, keep listening this long to catch extra (e.g. duplicate) messages (default 0). */
  settleMs?: number;
}

/**
 * `KAFKA_BROKERS` when it names a cluster provided by the user (not the one the harness's global
 * setup started and exported), as a list; undefined otherwise.
 */
export function externalBrokersFromEnv(): string[] | undefined {
  const value = process.env.KAFKA_BROKERS?.trim();
  if (!value || value === process.env.BRIDGE_E2E_KAFKA_SHARED) return undefined;
  return splitBrokers(value);
}

export function splitBrokers(value: string): string[] {
  return value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** A kafkajs client for `brokers` that keeps quiet (no retry/connection log spam in test output). */
export function quietKafka(brokers: string[], config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: `harness-${process.pid}`,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    ...config,
  });
}

/**
 * Reads `topic` from the beginning with a fresh consumer group until `count` messages arrived
 * (plus `settleMs` to catch extras). Rejects after `timeoutMs` saying how many arrived. A topic
 * that does not exist yet is waited for (not created: whatever is under test has to do that).
 */
export async function consumeTopic(kafka: Kafka, topic: string, opts: ConsumeOptions): Promise<ConsumedMessage[]> {
  const { count, timeoutMs = 30_000, settleMs = 0 } = opts;
  const groupId = `harness-consume-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    retry: { retries: 10 },
  });
  const messages: ConsumedMessage[] = [];
  let topicSeen = false;
  let finished = false;
  let reached: () => void = () => undefined;
  const countReached = new Promise<void>((resolve) => (reached = resolve));
  let timer: NodeJS.Timeout | undefined;
  let crashed: (err: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    crashed = reject;
    timer = setTimeout(() => {
      const why = topicSeen ? '' : ' (the topic never appeared)';
      reject(new Error(`consume(${topic}): timed out after ${timeoutMs} ms with ${messages.length} of ${count} message(s) received${why}`));
    }, timeoutMs);
  });
  failure.catch(() => undefined);
  const removeCrashListener = consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) crashed(new Error(`consume(${topic}): consumer crashed: ${event.payload.error.message}`));
  });

  const subscribeWhenTopicExists = async () => {
    for (;;) {
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        topicSeen = true;
        return;
      } catch (err) {
        const type = (err as { type?: string }).type;
        if (finished || (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE')) throw err;
        await sleep(200);
      }
    }
  };

  try {
    await Promise.race([
      (async () => {
        await consumer.connect();
        await subscribeWhenTopicExists();
        await consumer.run({
          eachMessage: async ({ topic: t, partition, message }) => {
            messages.push({
              topic: t,
              partition,
              offset: message.offset,
              timestamp: message.timestamp,
              key: message.key,
              value: message.value,
              headers: message.headers ?? {},
            });
            if (messages.length >= count) reached();
          },
        });
      })(),
      failure,
    ]);
    if (count <= 0) reached();
    await Promise.race([countReached, failure]);
    if (settleMs > 0) await Promise.race([sleep(settleMs), failure]);
    return [...messages];
  } finally {
    finished = true;
    clearTimeout(timer);
    removeCrashListener();
    await consumer.disconnect().catch(() => undefined);
  }
}
