import * as path from 'node:path';
import { benchMqttHeaders } from './bench-mqtt-headers';
import { sizeLabel } from './cases';
import { waitForRecords } from './kafka-watermarks';
import { fixedPayload } from './payload';
import { CpuMeter, RssSampler, RssSummary } from './proc-sampler';
import { topicsUnder } from './publisher';
import { RateResult } from './results';
import { createTopic, kafkaTopic, mqttPrefix, RunEnv } from './run-env';
import { workerExecArgv } from '../../test/harness/worker/worker-handle';
import { TsChild } from '../../test/harness/worker/ts-child';
import { CeilingCounters } from './ceiling-rdkafka.sink';

/**
 * The ceiling reference: `ceiling-bridge-process.ts` (an at-most-once MQTT.js -> kafkajs bridge
 * batching like the worker) fed by the same publisher and payloads as a bridge case, measured
 * the same way (records in Kafka from the first publish; CPU of its process under the `worker`
 * key, so the table's w column and µs cpu/msg compare with the worker's). It runs with the
 * worker's extra Node flags (BENCH_WORKER_EXECARGV) but always under ts-node: its RSS includes
 * ts-node even when the worker is compiled; its CPU after start-up does not.
 */
export async function measureCeiling(
  env: RunEnv,
  qos: 0 | 1,
  payloadBytes: number,
  messages: number,
  round?: number,
  client: 'kafkajs' | 'rdkafka' = 'kafkajs',
): Promise<RateResult> {
  const name = `ceiling-${client === 'rdkafka' ? 'rd-' : ''}q${qos}-${sizeLabel(payloadBytes)}${round ? `-r${round}` : ''}`;
  const prefix = mqttPrefix(env, name);
  const topic = kafkaTopic(env, name);
  await createTopic(env, topic);
  const headers = benchMqttHeaders();
  const child = TsChild.spawn(
    name,
    path.join(__dirname, 'ceiling-bridge-process.ts'),
    [env.mqttUrl, `${prefix}/+`, String(qos), env.kafkaBrokers.join(','), topic, headers, client],
    { execArgv: workerExecArgv() },
  );
  try {
    await child.waitFor('ready', 60_000);
    const payload = fixedPayload(payloadBytes);
    const rss = new RssSampler(child.pid, 100).start();
    const cpu = new CpuMeter({ bench: process.pid, worker: child.pid, ...env.brokerPids });
    const end: { cpu?: Record<string, number>; rss?: RssSummary } = {};
    const onEnd = () => {
      end.cpu = cpu.read();
      end.rss = rss.stop();
    };
    const arrival = waitForRecords(env.admin, topic, messages, { timeoutMs: 90_000, stallMs: 5_000, onEnd });
    arrival.catch(() => undefined);
    const published = await env.publisher.publishAll({ count: messages, qos, topics: topicsUnder(prefix), payload: () => payload });
    const arrived = await arrival;
    const counters = (await child.request({ type: 'stats' }, 'stats')) as unknown as CeilingCounters;
    const seconds = (arrived.lastArrivalAt - published.startedAt) / 1000;
    const rate = seconds > 0 ? Math.min(arrived.count, messages) / seconds : 0;
    const notes = [`at-most-once, mqttHeaders ${headers}, ts-node`];
    if (!arrived.complete) notes.push(`${messages - arrived.count} missing`);
    if (counters.failures) notes.push(`${counters.failures} failed produce requests, ${counters.dropped} records dropped`);
    return {
      kind: 'ceiling',
      name: `ceiling: at-most-once MQTT.js -> ${client === 'rdkafka' ? 'librdkafka' : 'kafkajs'} ${sizeLabel(payloadBytes)} q${qos}`,
      round,
      qos,
      payloadBytes,
      messages,
      arrived: arrived.count,
      seconds,
      rate,
      mbPerSecond: (rate * payloadBytes) / 1e6,
      publisherRate: published.rate,
      cpuPercent: end.cpu,
      rssMaxMb: end.rss?.maxMb,
      // librdkafka batches inside: no requests of ours to count.
      batchRecords: counters.requests ? counters.records / counters.requests : undefined,
      msPerRequest: counters.requests ? counters.busyMs / counters.requests : undefined,
      complete: arrived.complete,
      note: notes.join('; '),
    };
  } finally {
    child.send({ type: 'stop' });
    await child.waitExit(10_000);
  }
}
