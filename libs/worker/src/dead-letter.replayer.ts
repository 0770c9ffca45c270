import { Logger } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { retry } from '@app/core';
import { coordinatorNotReady, KafkaWriter, messageFromHeaders } from '@app/kafka';
import { BridgePipeline, BridgeStats, DLQ_HEADER } from '@app/pipeline';

/** How long a replay waits for its consumer group's coordinator (a new cluster's first group waits for the offsets topic). */
const COORDINATOR_WAIT_MS = 60_000;

export interface ReplayOptions {
  readonly rule: string;
  readonly deadLetterTopic: string;
  readonly dryRun: boolean;
  /** Stop after this many of the rule's dead letters (default: all present at the start). */
  readonly limit?: number;
}

/** One dead letter looked at by a replay. */
export interface ReplayLine {
  readonly partition: number;
  readonly offset: string;
  readonly topic: string;
  /** `delivered`, `dead-lettered again` (real run), `would deliver`, `would fail` (dry run), or `skipped`. */
  readonly result: string;
  readonly detail: string;
}

export interface ReplayReport {
  readonly examined: number;
  readonly replayed: number;
  readonly delivered: number;
  readonly failed: number;
}

/**
 * Feeds a rule's dead letters back into the pipeline, once the cause is fixed. It reads the
 * dead-letter topic with the consumer group `bridge-replay.<rule>`, up to the end offsets seen
 * when it starts (so what it dead-letters again waits for the next replay), and commits each
 * offset after the message is settled, so a dead letter is replayed once. A dry run commits
 * nothing and writes nothing. A real run also writes one JSON record per replayed message to
 * `<dead-letter topic>.replayed`.
 */
export class DeadLetterReplayer {
  private readonly log = new Logger(DeadLetterReplayer.name);

  constructor(
    private readonly kafka: Kafka,
    private readonly pipeline: BridgePipeline,
    private readonly writer: KafkaWriter,
    private readonly stats: BridgeStats,
  ) {}

  async run(options: ReplayOptions, onLine: (line: ReplayLine) => void): Promise<ReplayReport> {
    const groupId = `bridge-replay.${options.rule}`;
    const pending = await this.pendingPartitions(groupId, options.deadLetterTopic);
    const report = { examined: 0, replayed: 0, delivered: 0, failed: 0 };
    if (pending.size === 0) return report;

    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: options.deadLetterTopic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const finish = (partition: number, offset: bigint) => {
          if (offset + 1n >= (pending.get(partition) ?? 0n)) pending.delete(partition);
          if (pending.size === 0 || (options.limit !== undefined && report.replayed >= options.limit)) resolve();
        };
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const offset = BigInt(message.offset);
              if (!pending.has(partition) || offset >= pending.get(partition)! || (options.limit !== undefined && report.replayed >= options.limit)) {
                return;
              }
              report.examined++;
              const line = await this.replayOne(options, partition, message.offset, message.headers ?? {}, message.value ?? Buffer.alloc(0), report);
              onLine(line);
              if (!options.dryRun) {
                await consumer.commitOffsets([{ topic: options.deadLetterTopic, partition, offset: String(offset + 1n) }]);
              }
              finish(partition, offset);
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return report;
  }

  private async replayOne(
    options: ReplayOptions,
    partition: number,
    offset: string,
    headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>,
    value: Buffer,
    report: { replayed: number; delivered: number; failed: number },
  ): Promise<ReplayLine> {
    const message = messageFromHeaders(headers, value);
    const rule = headers['bridge.rule']?.toString();
    const base = { partition, offset, topic: message?.topic ?? '?' };
    if (!message || rule !== options.rule) return { ...base, result: 'skipped', detail: `dead letter of rule ${rule ?? '?'}` };
    if (headers[DLQ_HEADER.payload]?.toString() === 'cut') {
      return {
        ...base,
        result: 'skipped',
        detail: `payload was cut when dead-lettered (${headers[DLQ_HEADER.payloadBytes]?.toString() ?? '?'} bytes): not replayable`,
      };
    }
    const outcome = await this.pipeline.replay(options.rule, message, options.dryRun);
    if (!outcome) return { ...base, result: 'skipped', detail: `topic no longer matches rule ${options.rule}` };
    report.replayed++;
    const ok = outcome.failed.length === 0;
    if (ok) report.delivered++;
    else report.failed++;
    const detail = ok ? outcome.delivered.join(', ') : outcome.failed.join(', ');
    const result = options.dryRun ? (ok ? 'would deliver' : 'would fail') : ok ? 'delivered' : 'dead-lettered again';
    if (!options.dryRun) {
      this.stats.replayed(options.rule);
      await this.writer.write(
        {
          topic: `${options.deadLetterTopic}.replayed`,
          key: message.topic,
          value: Buffer.from(JSON.stringify({ rule: options.rule, partition, offset, topic: message.topic, result, detail, at: new Date().toISOString() })),
          headers: {},
        },
        { acks: 'all', idempotent: true },
      );
    }
    return { ...base, result, detail };
  }

  /** Partitions with dead letters past the group's committed offset, with their end offsets; waits for the group's coordinator. */
  private async pendingPartitions(groupId: string, topic: string): Promise<Map<number, bigint>> {
    try {
      return await retry(() => this.readPending(groupId, topic), {
        policy: { initialMs: 500, maxMs: 500, maxAttempts: 0, maxElapsedMs: COORDINATOR_WAIT_MS },
        retriable: coordinatorNotReady,
        onRetry: (error, attempt) => {
          if (attempt === 1) {
            this.log.log(
              `waiting for Kafka's coordinator of consumer group ${groupId} (a new cluster creates its offsets topic first): ${(error as Error).message}`,
            );
          }
        },
      });
    } catch (error) {
      if (!coordinatorNotReady(error)) throw error;
      throw new Error(`Kafka has no coordinator for consumer group ${groupId} after ${Math.round(COORDINATOR_WAIT_MS / 1000)} s: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async readPending(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const pending = new Map<number, bigint>();
      for (const end of ends) {
        const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        const start = BigInt(done) < 0n ? BigInt(end.low) : BigInt(done);
        if (start < BigInt(end.high)) pending.set(end.partition, BigInt(end.high));
      }
      return pending;
    } finally {
      await admin.disconnect();
    }
  }
}
