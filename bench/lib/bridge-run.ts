import * as path from 'node:path';
import { writeWorkerConfig } from './bridge-config';
import { BenchCase, CaseTopics } from './cases';
import { waitForRecords } from './kafka-watermarks';
import { fixedPayload } from './payload';
import { CpuMeter, readRss, RssSampler, RssSummary } from './proc-sampler';
import { topicsUnder } from './publisher';
import { RateResult, TARGETS, WorkerRunInfo } from './results';
import { createTopic, kafkaTopic, mqttPrefix, RunEnv } from './run-env';
import { WorkerHandle, WorkerMemory, WorkerStats } from '../../test/harness/worker/worker-handle';

const MB = 1024 * 1024;

/** The worker's figures for a run: idle memory (taken at start) plus what `stats()` reported at the end. */
export function workerRunInfo(idle: { rss?: number; heapUsed?: number }, s: WorkerStats, end?: WorkerMemory): WorkerRunInfo {
  const p = s.produce;
  return {
    idleRssMb: idle.rss === undefined ? undefined : idle.rss / MB,
    heapUsedMb: idle.heapUsed === undefined ? undefined : idle.heapUsed / MB,
    endMemoryMb: end && { rss: end.rss / MB, heapTotal: end.heapTotal / MB, heapUsed: end.heapUsed / MB, external: end.external / MB },
    inFlightMax: s.inFlightMax,
    inFlightAvg: s.inFlightAvg,
    produceRequests: p.requests,
    recordsPerRequest: p.requests ? p.records / p.requests : 0,
    maxRecordsPerRequest: p.maxRecords,
    msPerRequest: p.requests ? p.busyMs / p.requests : 0,
    produceFailures: p.failureTypes,
    deadLettered: Object.values(s.stats).reduce((n, r) => n + r.deadLettered, 0),
    delivered: Object.values(s.stats).reduce((n, r) => n + r.delivered, 0),
    loopDelayP99Ms: s.loopDelayP99Ms,
    loopDelayMaxMs: s.loopDelayMaxMs,
    gc: s.gc,
  };
}

/** Memory of a freshly started worker, before any traffic. */
export async function idleMemory(worker: WorkerHandle): Promise<{ rss?: number; heapUsed?: number }> {
  const own = await worker.memory().catch(() => undefined);
  return { rss: readRss(worker.pid) ?? own?.rss, heapUsed: own?.heapUsed };
}

export interface BridgeRunOptions {
  /** Write a CPU profile of the worker, covering the measured window, into this directory. */
  readonly profileDir?: string;
  readonly timeoutMs?: number;
  /** With BENCH_ROUNDS: the round, which keeps the run's topics and profile apart from the other rounds'. */
  readonly round?: number;
}

export interface BridgeRunResult {
  readonly result: RateResult;
  readonly profile?: string;
}

/** Topic names of a case in this run; `suffix` keeps a second run of the same case apart. */
export function caseTopics(env: RunEnv, c: BenchCase, suffix = ''): CaseTopics {
  return { mqttPrefix: mqttPrefix(env, c.name + suffix), kafkaTopic: kafkaTopic(env, c.name + suffix) };
}

/** Starts a worker in its own process on the case's rules and a fresh Kafka topic. */
export async function startCaseWorker(env: RunEnv, c: BenchCase, topics: CaseTopics): Promise<WorkerHandle> {
  await createTopic(env, topics.kafkaTopic);
  await c.prepare?.(env.tmpDir);
  const file = writeWorkerConfig({ mqttUrl: env.mqttUrl, kafkaBrokers: env.kafkaBrokers, benchCase: c, topics, dir: env.tmpDir });
  return WorkerHandle.start(c.name, file, { ...(c.workerEnv ?? {}) });
}

/**
 * One throughput run: a fresh worker process on the case's rules, the publisher sends
 * `messages` over 100 topics as fast as Mosquitto takes them, and the Kafka topic's watermarks
 * are polled until every record is there. Throughput = records / (first publish -> last record).
 */
export async function runBridgeCase(env: RunEnv, c: BenchCase, messages: number, opts: BridgeRunOptions = {}): Promise<BridgeRunResult> {
  const suffix = opts.round ? `-r${opts.round}` : '';
  const topics = caseTopics(env, c, suffix);
  const worker = await startCaseWorker(env, c, topics);
  try {
    const mqttTopics = topicsUnder(topics.mqttPrefix);
    const plain = fixedPayload(c.payloadBytes);
    const encoded = new Map(mqttTopics.map((t) => [t, c.encodePayload ? c.encodePayload(plain, t) : plain]));
    const idle = await idleMemory(worker);
    await worker.reset();
    if (opts.profileDir) await worker.profileStart();
    const rss = new RssSampler(worker.pid, 100).start();
    const cpu = new CpuMeter({ bench: process.pid, worker: worker.pid, ...env.brokerPids });
    // CPU and memory up to the last record, not over the duplicate check after it.
    const end: { cpu?: Record<string, number>; rss?: RssSummary } = {};
    const onEnd = () => {
      end.cpu = cpu.read();
      end.rss = rss.stop();
    };
    const arrival = waitForRecords(env.admin, topics.kafkaTopic, messages, { timeoutMs: opts.timeoutMs ?? 90_000, stallMs: 5_000, onEnd });
    arrival.catch(() => undefined);
    const published = await env.publisher.publishAll({ count: messages, qos: c.qos, topics: mqttTopics, payload: (_i, t) => encoded.get(t)! });
    const arrived = await arrival;
    const profile = opts.profileDir ? await worker.profileStop(path.join(opts.profileDir, `worker-${c.name}${suffix}.cpuprofile`)) : undefined;
    const info = workerRunInfo(idle, await worker.stats(), await worker.memory(true).catch(() => undefined));
    const deadLettered = info.deadLettered;
    const seconds = (arrived.lastArrivalAt - published.startedAt) / 1000;
    // Throughput counts each message once: duplicates beyond `messages` do not add to it.
    const rate = seconds > 0 ? Math.min(arrived.count, messages) / seconds : 0;
    const notes: string[] = [];
    if (!arrived.complete) notes.push(`${messages - arrived.count} missing`);
    if (arrived.count > messages) notes.push(`${arrived.count - messages} duplicate records in Kafka (worker delivered ${info.delivered})`);
    if (deadLettered) notes.push(`${deadLettered} dead-lettered`);
    if (opts.profileDir) notes.push('profiled');
    return {
      profile,
      result: {
        kind: 'bridge',
        name: c.name,
        round: opts.round,
        qos: c.qos,
        payloadBytes: c.payloadBytes,
        messages,
        arrived: arrived.count,
        seconds,
        rate,
        mbPerSecond: (rate * c.payloadBytes) / 1e6,
        publisherRate: published.rate,
        cpuPercent: end.cpu,
        rssMaxMb: end.rss?.maxMb,
        worker: info,
        complete: arrived.complete,
        ratioTarget: c.hasRatioTarget ? TARGETS.qos1RatioMin : undefined,
        note: notes.join('; ') || undefined,
      },
    };
  } finally {
    await worker.stop();
  }
}
