/**
 * The reference rates the bridge is compared to, each measured on the same brokers as the
 * bridge runs:
 *  - publisher alone: what the publisher gets into Mosquitto with nobody subscribed;
 *  - limit A: a bare MQTT.js subscriber (MQTT 5, QoS 1) fed by the same publisher and payloads;
 *  - limit B: a bare kafkajs producer writing same-sized records with the bridge's batching.
 */
import * as path from 'node:path';
import { CompressionTypes, Message, Partitioners } from 'kafkajs';
import { mqttHeaders } from '@app/kafka';
import { benchMqttHeaders, sizeLabel } from './cases';
import { waitForRecords } from './kafka-watermarks';
import { fixedPayload } from './payload';
import { CpuMeter } from './proc-sampler';
import { topicsUnder } from './publisher';
import { RateResult } from './results';
import { createTopic, kafkaTopic, mqttPrefix, RunEnv } from './run-env';
import { TsChild } from '../../test/harness/worker/ts-child';

const MB = 1e6;

function rateResult(base: Omit<RateResult, 'rate' | 'mbPerSecond'>): RateResult {
  const rate = base.seconds > 0 ? base.arrived / base.seconds : 0;
  return { ...base, rate, mbPerSecond: (rate * base.payloadBytes) / MB };
}

/** Publisher into Mosquitto with no subscriber at all: the ceiling of the publishing side. */
export async function measurePublisherAlone(env: RunEnv, qos: 0 | 1, payloadBytes: number, messages: number): Promise<RateResult> {
  const name = `pub-q${qos}-${sizeLabel(payloadBytes)}`;
  const payload = fixedPayload(payloadBytes);
  const cpu = new CpuMeter({ bench: process.pid, ...env.brokerPids });
  const result = await env.publisher.publishAll({ count: messages, qos, topics: topicsUnder(mqttPrefix(env, name)), payload: () => payload });
  const seconds = (result.finishedAt - result.startedAt) / 1000;
  return rateResult({
    kind: 'publisher-alone',
    name: `publisher alone ${sizeLabel(payloadBytes)} q${qos}`,
    qos,
    payloadBytes,
    messages,
    arrived: messages,
    seconds,
    publisherRate: result.rate,
    cpuPercent: cpu.read(),
    complete: true,
  });
}

/** Limit A: the rate a bare MQTT.js subscriber receives at, from the first publish to the last message. */
export async function measureLimitA(env: RunEnv, qos: 0 | 1, payloadBytes: number, messages: number): Promise<RateResult> {
  const name = `limA-q${qos}-${sizeLabel(payloadBytes)}`;
  const prefix = mqttPrefix(env, name);
  const sub = TsChild.spawn(`subscriber ${name}`, path.join(__dirname, 'bare-subscriber-process.ts'), [
    env.mqttUrl,
    `${prefix}/+`,
    String(qos),
    String(messages),
  ]);
  try {
    await sub.waitFor('ready', 30_000);
    const payload = fixedPayload(payloadBytes);
    const cpu = new CpuMeter({ bench: process.pid, subscriber: sub.pid, ...env.brokerPids });
    const done = sub.waitFor('done', 60_000).then(() => performance.now());
    done.catch(() => undefined);
    const published = await env.publisher.publishAll({ count: messages, qos, topics: topicsUnder(prefix), payload: () => payload });
    let arrivedAt: number;
    let arrived = messages;
    let complete = true;
    try {
      arrivedAt = await done;
    } catch {
      // QoS 0 may lose messages: report what arrived by the timeout.
      arrived = Number((await sub.request({ type: 'count' }, 'count')).count);
      arrivedAt = performance.now();
      complete = false;
    }
    const cpuPercent = cpu.read();
    return rateResult({
      kind: 'limit-A',
      name: `limit A: bare MQTT sub ${sizeLabel(payloadBytes)} q${qos}`,
      qos,
      payloadBytes,
      messages,
      arrived,
      seconds: (arrivedAt - published.startedAt) / 1000,
      publisherRate: published.rate,
      cpuPercent,
      complete,
    });
  } finally {
    sub.send({ type: 'stop' });
    await sub.waitExit(5_000);
  }
}

/**
 * Limit B: a bare kafkajs producer with the bridge's batching – sendBatch of up to 1000 records,
 * acks -1, idempotent, one request in flight – writing records like the bridge's (key = MQTT
 * topic, the bridge's mqtt.* / bridge.* headers as BENCH_MQTT_HEADERS selects (four by default),
 * same payload size) to a fresh topic.
 */
export async function measureLimitB(env: RunEnv, payloadBytes: number, messages: number, maxBatch = 1000): Promise<RateResult> {
  const name = `limB-${sizeLabel(payloadBytes)}`;
  const topic = kafkaTopic(env, name);
  await createTopic(env, topic);
  const payload = fixedPayload(payloadBytes);
  const mqttTopics = topicsUnder(mqttPrefix(env, name));
  const headerMode = benchMqttHeaders();
  const records: Message[] = Array.from({ length: messages }, (_, i) => {
    const mqttTopic = mqttTopics[i % mqttTopics.length];
    const headers = mqttHeaders({ topic: mqttTopic, payload, qos: 1, retain: false, properties: {}, receivedAt: 0 }, 'passthrough', headerMode);
    return { key: mqttTopic, value: payload, headers };
  });
  // Up to 1000 records per request, but no more than ~900 KB of them: a partition's record batch
  // above the broker's message.max.bytes (1 MB) is refused with MESSAGE_TOO_LARGE.
  const recordBytes = payloadBytes + 2 * mqttTopics[0].length + 80;
  const batch = Math.max(1, Math.min(maxBatch, Math.floor(900_000 / recordBytes)));
  const producer = env.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const cpu = new CpuMeter({ bench: process.pid, ...env.brokerPids });
    const startedAt = performance.now();
    for (let i = 0; i < records.length; i += batch) {
      await producer.sendBatch({ topicMessages: [{ topic, messages: records.slice(i, i + batch) }], acks: -1, compression: CompressionTypes.None });
    }
    const sentAt = performance.now();
    const cpuPercent = cpu.read();
    const arrival = await waitForRecords(env.admin, topic, messages, { timeoutMs: 10_000 });
    return rateResult({
      kind: 'limit-B',
      name: `limit B: bare kafkajs producer ${sizeLabel(payloadBytes)}`,
      qos: 1,
      payloadBytes,
      messages,
      arrived: arrival.count,
      seconds: (sentAt - startedAt) / 1000,
      cpuPercent,
      batchRecords: batch,
      complete: arrival.complete,
      note: batch < maxBatch ? `${batch} records/request (byte cap)` : undefined,
    });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
