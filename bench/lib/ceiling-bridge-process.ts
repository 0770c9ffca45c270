/**
 * Child process of the benchmark for the ceiling reference: the plainest bridge the same
 * libraries allow. An MQTT.js subscriber (MQTT 5, receive maximum 1000 like the worker) whose
 * QoS 1 messages MQTT.js acknowledges at once, so a message is lost if Kafka refuses it
 * (at-most-once), and a kafkajs producer batching like the bridge's Kafka lane: records queue
 * while one sendBatch is in flight, the next batch takes up to 1000 of them and at most 900 KB,
 * acks -1, idempotent, one request in flight. Records like the bridge's: key = MQTT topic,
 * headers from @app/kafka's mqttHeaders. No routing, no rule, no ordered acknowledgements, no
 * metrics: what the bridge costs above this is its own.
 *
 * With a 7th argument `rdkafka` the Kafka side is librdkafka's native producer instead
 * (ceiling-rdkafka.sink.ts, module path in BENCH_RDKAFKA_MODULE).
 *
 * argv: <mqtt url> <filter> <qos> <kafka brokers, comma-separated> <kafka topic> <mqttHeaders mode> [kafkajs|rdkafka]
 * IPC, child -> parent: { type: 'ready', pid } | { type: 'stats', requests, records, maxRecords, failures, dropped, busyMs } |
 *   { type: 'stopped' } | { type: 'error', message }
 * parent -> child: { type: 'stats' } | { type: 'stop' }
 */
import { CompressionTypes, Kafka, Message, Partitioners } from 'kafkajs';
import { connectAsync } from 'mqtt';
import { kafkaClientConfig, kafkaConnectionSchema, MQTT_HEADER_MODES, mqttHeaders, useProduceEncoding } from '@app/kafka';
import { benchKafkaEncoding } from './cases';
import { CeilingCounters, rdkafkaSink } from './ceiling-rdkafka.sink';

/** The bridge's defaults: kafka.producer.maxBatchMessages (the benchmark's 1000) and maxBatchBytes. */
const MAX_BATCH = 1000;
const MAX_BATCH_BYTES = 900_000;
const RULE = 'ceiling';

function send(message: Record<string, unknown>): void {
  if (process.connected) process.send?.(message);
}

async function main(): Promise<void> {
  const [url, filter, qosText, brokers, topic, modeText, client = 'kafkajs'] = process.argv.slice(2);
  const qos = Number(qosText) as 0 | 1;
  const mode = MQTT_HEADER_MODES.find((m) => m === modeText);
  if (!url || !filter || !(qos === 0 || qos === 1) || !brokers || !topic || !mode) {
    throw new Error('usage: ceiling-bridge-process.ts <mqtt url> <filter> <qos> <brokers> <topic> <all|minimal|none>');
  }
  // The same request encoding as the bridge cases, so the ceiling stays "the same libraries".
  useProduceEncoding(benchKafkaEncoding() === 'bridge');
  const kafka = new Kafka(kafkaClientConfig(kafkaConnectionSchema.parse({ brokers: brokers.split(','), clientId: 'bench-ceiling' })));
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const counters: CeilingCounters = { requests: 0, records: 0, maxRecords: 0, failures: 0, dropped: 0, busyMs: 0 };
  const native = client === 'rdkafka' ? await rdkafkaSink(process.env.BENCH_RDKAFKA_MODULE ?? '', brokers, counters) : undefined;
  if (!native) await producer.connect();
  const queue: Array<{ record: Message; bytes: number }> = [];
  let sending = false;

  const nextBatch = (): Message[] => {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && n < MAX_BATCH && (n === 0 || bytes + queue[n].bytes <= MAX_BATCH_BYTES)) bytes += queue[n++].bytes;
    return queue.splice(0, n).map((q) => q.record);
  };

  const drain = async (): Promise<void> => {
    try {
      while (queue.length > 0) {
        const messages = nextBatch();
        counters.requests++;
        counters.records += messages.length;
        counters.maxRecords = Math.max(counters.maxRecords, messages.length);
        const started = performance.now();
        try {
          await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1, compression: CompressionTypes.None });
        } catch {
          // At-most-once: the messages were acknowledged on receipt, a refused batch is gone.
          counters.failures++;
          counters.dropped += messages.length;
        } finally {
          counters.busyMs += performance.now() - started;
        }
      }
    } finally {
      sending = false;
    }
  };

  const mqtt = await connectAsync(url, {
    protocolVersion: 5,
    clean: true,
    clientId: `bench-ceiling-${process.pid}`,
    reconnectPeriod: 0,
    properties: { receiveMaximum: 1000 },
  });
  mqtt.on('message', (mqttTopic, payload, packet) => {
    const headers = mqttHeaders(
      { topic: mqttTopic, payload, qos: packet.qos, retain: packet.retain, properties: {}, receivedAt: performance.now() },
      RULE,
      mode,
    );
    const record = { key: mqttTopic, value: payload, headers };
    if (native) {
      native.write(topic, record);
      return;
    }
    queue.push({ record, bytes: payload.length + 2 * mqttTopic.length + 80 });
    if (!sending) {
      sending = true;
      // Like the bridge's SerialBatcher: start on the next turn, so one socket read's burst is one batch.
      setImmediate(() => void drain());
    }
  });
  await mqtt.subscribeAsync(filter, { qos });
  process.on('message', (raw: unknown) => {
    const m = raw as { type: string };
    if (m.type === 'stats') send({ type: 'stats', ...counters });
    if (m.type === 'stop') {
      void Promise.allSettled([mqtt.endAsync(false), producer.disconnect(), native?.close()]).finally(() => {
        send({ type: 'stopped' });
        setTimeout(() => process.exit(0), 20);
      });
    }
  });
  process.on('disconnect', () => process.exit(3));
  send({ type: 'ready', pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  setTimeout(() => process.exit(1), 50);
});
