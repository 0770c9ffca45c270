import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { caseTopics, idleMemory, startCaseWorker, workerRunInfo } from './bridge-run';
import { BenchCase } from './cases';
import { fixedPayload, nowEpochMs, readStamp, stampedPayload } from './payload';
import { percentile, sortedCopy } from './percentiles';
import { CpuMeter, RssSampler } from './proc-sampler';
import { topicsUnder } from './publisher';
import { LatencyResult } from './results';
import { RunEnv } from './run-env';

export interface LatencyOptions {
  readonly offeredRate: number;
  readonly seconds: number;
  /** Messages sent through the fresh worker at full speed first (not measured). */
  readonly warmupMessages: number;
  /** Write a CPU profile of the worker covering the measured window into this directory. */
  readonly profileDir?: string;
  /** Messages published in the first `warmupMs` are left out of the percentiles. */
  readonly warmupMs: number;
}

/** Sequence number of warm-up payloads (never a measured message's). */
const WARMUP_SEQ = 0xffffffff;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `promise` does or after `ms`, whichever is first; the timer never outlives it. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Publish-to-Kafka latency at a fixed offered rate (open loop: publishes are not held back by
 * slow acknowledgements). Every payload carries its publish time; a kafkajs consumer in this
 * process takes arrival minus publish time, so both ends read the same clock. The worker's
 * resident memory is sampled throughout.
 */
export async function runLatency(env: RunEnv, c: BenchCase, opts: LatencyOptions): Promise<LatencyResult> {
  const topics = caseTopics(env, c, '-latency');
  const worker = await startCaseWorker(env, c, topics);
  const consumer = env.kafka.consumer({
    groupId: `bench-latency-${env.runId}`,
    maxWaitTimeInMs: 100,
    minBytes: 1,
    allowAutoTopicCreation: false,
  });
  try {
    const count = Math.max(1, Math.round(opts.offeredRate * opts.seconds));
    const sentAt = new Float64Array(count).fill(Number.NaN);
    const latency = new Float64Array(count).fill(Number.NaN);
    let received = 0;
    let warmupReceived = 0;
    let warmedUp: () => void = () => undefined;
    const warmupDone = new Promise<void>((resolve) => (warmedUp = resolve));
    let allArrived: () => void = () => undefined;
    const arrivedAll = new Promise<void>((resolve) => (allArrived = resolve));

    await consumer.connect();
    await consumer.subscribe({ topic: topics.kafkaTopic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = nowEpochMs();
        for (const message of batch.messages) {
          const stamp = message.value ? readStamp(message.value) : undefined;
          if (stamp?.seq === WARMUP_SEQ) {
            if (++warmupReceived === opts.warmupMessages) warmedUp();
            continue;
          }
          if (!stamp || stamp.seq >= count || !Number.isNaN(latency[stamp.seq])) continue;
          sentAt[stamp.seq] = stamp.sentAt;
          latency[stamp.seq] = now - stamp.sentAt;
          if (++received === count) allArrived();
        }
      },
    });
    await joined;
    await sleep(500); // first fetch in flight before the clock starts
    const idle = await idleMemory(worker);

    // A fresh worker runs unoptimised code for its first thousands of messages: warm it up at
    // full speed and wait until all of that is through, so the measurement sees the steady state.
    const mqttTopics = topicsUnder(topics.mqttPrefix);
    if (opts.warmupMessages > 0) {
      const warm = fixedPayload(c.payloadBytes);
      warm.writeUInt32LE(WARMUP_SEQ, 8);
      await env.publisher.publishAll({ count: opts.warmupMessages, qos: c.qos, topics: mqttTopics, payload: () => warm });
      await within(warmupDone, 30_000);
      await sleep(500);
    }
    await worker.reset();
    if (opts.profileDir) await worker.profileStart();
    const filler = randomBytes(c.payloadBytes);
    const rss = new RssSampler(worker.pid, 100).start();
    const cpu = new CpuMeter({ bench: process.pid, worker: worker.pid, ...env.brokerPids });
    const start = nowEpochMs();
    const published = await env.publisher.publishAtRate(
      { count, qos: c.qos, topics: mqttTopics, payload: (i) => stampedPayload(c.payloadBytes, i, filler) },
      opts.offeredRate,
    );
    await within(arrivedAll, 15_000);
    const cpuPercent = cpu.read();
    const rssSummary = rss.stop();
    const info = workerRunInfo(idle, await worker.stats(), await worker.memory(true).catch(() => undefined));
    const profile = opts.profileDir ? await worker.profileStop(path.join(opts.profileDir, `worker-${c.name}-latency.cpuprofile`)) : undefined;

    const measured: number[] = [];
    for (let i = 0; i < count; i++) {
      if (!Number.isNaN(latency[i]) && sentAt[i] >= start + opts.warmupMs) measured.push(latency[i]);
    }
    const sorted = sortedCopy(measured);
    const timeline: LatencyResult['timeline'] = [];
    for (let from = 0; from < opts.seconds * 1000; from += 500) {
      const bucket: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = sentAt[i] - start;
        if (t >= from && t < from + 500 && !Number.isNaN(latency[i])) bucket.push(latency[i]);
      }
      const b = sortedCopy(bucket);
      timeline.push({ fromMs: from, samples: b.length, p50Ms: percentile(b, 50), p99Ms: percentile(b, 99) });
    }
    return {
      payloadBytes: c.payloadBytes,
      qos: c.qos,
      offeredRate: opts.offeredRate,
      achievedPublishRate: published.rate,
      seconds: (published.finishedAt - published.startedAt) / 1000,
      sent: count,
      received,
      samples: sorted.length,
      warmupMs: opts.warmupMs,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      p999Ms: percentile(sorted, 99.9),
      maxMs: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
      rss: rssSummary,
      cpuPercent,
      worker: info,
      warmupMessages: opts.warmupMessages,
      profile,
      timeline,
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await worker.stop();
  }
}
