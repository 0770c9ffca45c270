import { caseTopics, idleMemory, workerRunInfo } from './bridge-run';
import { writeWorkerConfig } from './bridge-config';
import { BenchCase } from './cases';
import { waitForRecords } from './kafka-watermarks';
import { fixedPayload } from './payload';
import { CpuMeter, RssSampler, RssSummary } from './proc-sampler';
import { topicsUnder } from './publisher';
import { RateResult, WorkerRunInfo } from './results';
import { createTopic, RunEnv } from './run-env';
import { WorkerHandle } from '../../test/harness/worker/worker-handle';

/**
 * The workers' figures as one: counts summed, maxima of maxima, averages weighted by produce
 * requests, so the table's columns read as for a single worker.
 */
export function mergeWorkerInfo(infos: readonly WorkerRunInfo[]): WorkerRunInfo {
  const sum = (f: (i: WorkerRunInfo) => number) => infos.reduce((n, i) => n + f(i), 0);
  const max = (f: (i: WorkerRunInfo) => number) => Math.max(...infos.map(f));
  const requests = sum((i) => i.produceRequests);
  const failures: Record<string, number> = {};
  for (const i of infos) for (const [type, n] of Object.entries(i.produceFailures)) failures[type] = (failures[type] ?? 0) + n;
  return {
    idleRssMb: infos[0]?.idleRssMb,
    heapUsedMb: infos[0]?.heapUsedMb,
    inFlightMax: max((i) => i.inFlightMax),
    inFlightAvg: sum((i) => i.inFlightAvg),
    produceRequests: requests,
    recordsPerRequest: requests ? sum((i) => i.recordsPerRequest * i.produceRequests) / requests : 0,
    maxRecordsPerRequest: max((i) => i.maxRecordsPerRequest),
    msPerRequest: requests ? sum((i) => i.msPerRequest * i.produceRequests) / requests : 0,
    produceFailures: failures,
    deadLettered: sum((i) => i.deadLettered),
    delivered: sum((i) => i.delivered),
    loopDelayP99Ms: max((i) => i.loopDelayP99Ms),
    loopDelayMaxMs: max((i) => i.loopDelayMaxMs),
  };
}

/**
 * One run of the scaling case: `workers` worker processes, each with its own configuration file
 * and clientId but the same rule (a `shareGroup`), so Mosquitto splits one stream between them;
 * measured like `runBridgeCase` (records in Kafka from the first publish). CPU per message is
 * the workers' CPU summed, so it compares with one worker's.
 */
export async function runSharedCase(env: RunEnv, c: BenchCase, workers: number, messages: number, round?: number): Promise<RateResult> {
  const suffix = `-${workers}w${round ? `-r${round}` : ''}`;
  const topics = caseTopics(env, c, suffix);
  await createTopic(env, topics.kafkaTopic);
  // Distinct names give distinct files and clientIds (writeWorkerConfig draws one per call).
  const files = Array.from({ length: workers }, (_, i) =>
    writeWorkerConfig({
      mqttUrl: env.mqttUrl,
      kafkaBrokers: env.kafkaBrokers,
      benchCase: { ...c, name: `${c.name}${suffix}-w${i + 1}` },
      topics,
      dir: env.tmpDir,
    }),
  );
  const started = await Promise.allSettled(files.map((file, i) => WorkerHandle.start(`${c.name}${suffix}-w${i + 1}`, file, { ...(c.workerEnv ?? {}) })));
  const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const payload = fixedPayload(c.payloadBytes);
    const idle = await Promise.all(handles.map((w) => idleMemory(w)));
    await Promise.all(handles.map((w) => w.reset()));
    const samplers = handles.map((w) => new RssSampler(w.pid, 100).start());
    const workerKeys = handles.map((_, i) => `worker${i + 1}`);
    const cpu = new CpuMeter({ bench: process.pid, ...Object.fromEntries(handles.map((w, i) => [workerKeys[i], w.pid])), ...env.brokerPids });
    const end: { cpu?: Record<string, number>; rss?: Array<RssSummary | undefined> } = {};
    const onEnd = () => {
      end.cpu = cpu.read();
      end.rss = samplers.map((s) => s.stop());
    };
    const arrival = waitForRecords(env.admin, topics.kafkaTopic, messages, { timeoutMs: 90_000, stallMs: 5_000, onEnd });
    arrival.catch(() => undefined);
    const published = await env.publisher.publishAll({ count: messages, qos: c.qos, topics: topicsUnder(topics.mqttPrefix), payload: () => payload });
    const arrived = await arrival;
    const infos = await Promise.all(handles.map(async (w, i) => workerRunInfo(idle[i], await w.stats())));
    const info = mergeWorkerInfo(infos);
    const perWorkerCpu = workerKeys.map((k) => end.cpu?.[k]);
    const cpuPercent = end.cpu && { ...end.cpu, worker: perWorkerCpu.reduce((n: number, x) => n + (x ?? 0), 0) };
    const seconds = (arrived.lastArrivalAt - published.startedAt) / 1000;
    const rate = seconds > 0 ? Math.min(arrived.count, messages) / seconds : 0;
    const notes = [`${workers} worker${workers > 1 ? 's' : ''} on $share/bench, delivered ${infos.map((i) => i.delivered).join('/')}`];
    if (!arrived.complete) notes.push(`${messages - arrived.count} missing`);
    if (arrived.count > messages) notes.push(`${arrived.count - messages} duplicate records in Kafka (workers delivered ${info.delivered})`);
    if (info.deadLettered) notes.push(`${info.deadLettered} dead-lettered`);
    return {
      kind: 'bridge',
      name: `${c.name}-${workers}w`,
      round,
      qos: c.qos,
      payloadBytes: c.payloadBytes,
      messages,
      arrived: arrived.count,
      seconds,
      rate,
      mbPerSecond: (rate * c.payloadBytes) / 1e6,
      publisherRate: published.rate,
      cpuPercent,
      rssMaxMb: end.rss && Math.max(...end.rss.map((r) => r?.maxMb ?? 0)),
      worker: info,
      workers,
      perWorker: infos.map((i, w) => ({ delivered: i.delivered, cpuPercent: perWorkerCpu[w], rssMaxMb: end.rss?.[w]?.maxMb })),
      complete: arrived.complete,
      note: notes.join('; '),
    };
  } finally {
    await Promise.all(handles.map((w) => w.stop()));
  }
}
