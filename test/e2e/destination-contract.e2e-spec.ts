import { connect as amqpConnect } from 'amqplib';
import { MqttClient } from 'mqtt';
import { connect as natsConnect, NatsConnection } from 'nats';
import { AmqpClientFactory, AmqpDestination, amqpDestinationSchema } from '@app/amqp';
import { describeDestinationContract } from '@app/core/testing/destination.contract';
import { KafkaClientFactory, kafkaConnectionSchema, KafkaDestination, kafkaDestinationSchema, openKafkaWriter, RdkafkaClientFactory } from '@app/kafka';
import { MqttClientFactory, MqttDestination, mqttDestinationSchema } from '@app/mqtt';
import { NatsClientFactory, NatsDestination, natsDestinationSchema } from '@app/nats';
import { freePort } from '../harness/free-port';
import { MosquittoBroker } from '../harness/mosquitto.broker';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, startWorker, testMqttBroker, TestMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';

/** The machine's RabbitMQ and NATS JetStream (.ci/run starts them when they are not running). */
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const NATS = '127.0.0.1:4222';
/** Short pacing: reconnects and retries within the cases' time, as in production only faster. */
const RETRY = { initialMs: 50, maxMs: 250 };

/** Whether the retained message on `topic` of the broker at `url` is `payload`. */
async function retainedIs(url: string, topic: string, payload: string): Promise<boolean> {
  const client = await mqttClient(url, { clientId: uniqueId('check') });
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_topic, body) => resolve(body.toString())));
    await client.subscribeAsync(topic, { qos: 1 });
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1_000));
    return (await Promise.race([got, timeout])) === payload;
  } finally {
    await client.endAsync();
  }
}

describeDestinationContract('mqtt (Mosquitto)', {
  bringsUp: true,
  stalls: true,
  deliveryMs: 10_000,
  async create({ down }) {
    const port = await freePort();
    let broker = down ? undefined : await MosquittoBroker.start({ port, persistence: false });
    const topic = `contract/${uniqueId()}`;
    const config = mqttDestinationSchema.parse({ type: 'mqtt', broker: { url: `mqtt://127.0.0.1:${port}`, reconnectPeriodMs: 200 }, topic, retry: RETRY });
    return {
      destination: new MqttDestination('e2e/mqtt[0]', config, new MqttClientFactory(), []),
      // The contract's records are retained: the broker holds the last one for a late subscriber.
      delivered: async (payload) => (broker?.running ? retainedIs(broker.url, topic, payload) : false),
      bringUp: async () => void (broker = await MosquittoBroker.start({ port, persistence: false })),
      // SIGSTOP: the connection stays open and nothing is acknowledged.
      stall: async () => broker!.pause(),
      dispose: async () => {
        if (broker?.running) await broker.resume().catch(() => undefined);
        await broker?.destroy();
      },
    };
  },
});

describeDestinationContract('amqp (RabbitMQ)', {
  // The shared RabbitMQ cannot be started later or frozen by a test; the unit flavour covers those.
  bringsUp: false,
  stalls: false,
  async create({ down }) {
    const url = down ? `amqp://guest:guest@127.0.0.1:${await freePort()}` : AMQP_URL;
    const queue = `contract.${uniqueId()}`;
    const admin = await amqpConnect(AMQP_URL);
    const channel = await admin.createChannel();
    await channel.assertQueue(queue, { durable: false });
    const config = amqpDestinationSchema.parse({ type: 'amqp', url, exchange: '', routingKey: queue, retry: RETRY });
    return {
      destination: new AmqpDestination('e2e/amqp[0]', config, new AmqpClientFactory(), []),
      delivered: async (payload) => {
        for (let message = await channel.get(queue); message; message = await channel.get(queue)) {
          channel.ack(message);
          if (message.content.toString() === payload) return true;
        }
        return false;
      },
      dispose: async () => {
        await channel.deleteQueue(queue);
        await admin.close();
      },
    };
  },
});

describeDestinationContract('nats (JetStream)', {
  bringsUp: false,
  stalls: false,
  async create({ down }) {
    const servers = [down ? `127.0.0.1:${await freePort()}` : NATS];
    const id = uniqueId();
    const nats: NatsConnection = await natsConnect({ servers: NATS });
    const jsm = await nats.jetstreamManager();
    await jsm.streams.add({ name: `S_${id}`, subjects: [`${id}.>`] });
    const config = natsDestinationSchema.parse({ type: 'nats', servers, subject: `${id}.out`, retry: RETRY });
    return {
      destination: new NatsDestination('e2e/nats[0]', config, new NatsClientFactory(), []),
      delivered: async (payload) => {
        const last = await jsm.streams.getMessage(`S_${id}`, { last_by_subj: `${id}.out` }).catch(() => undefined);
        return last !== undefined && Buffer.from(last.data).toString() === payload;
      },
      dispose: async () => {
        await jsm.streams.delete(`S_${id}`);
        await nats.drain();
      },
    };
  },
});

for (const client of ['kafkajs', 'librdkafka'] as const) {
  describeDestinationContract(`kafka (${client})`, {
    // The shared Kafka cannot be stopped for one case, and pending writes belong to the shared writer.
    bringsUp: false,
    stalls: false,
    closeEndsPendingWrites: false,
    async create({ down }) {
      const kafka = sharedKafka();
      const topic = `contract.${uniqueId()}`;
      if (!down) await kafka.createTopic(topic, 1);
      const connection = kafkaConnectionSchema.parse({ brokers: down ? [`127.0.0.1:${await freePort()}`] : kafka.brokers, producer: { client, retry: RETRY } });
      const writer = openKafkaWriter(connection, { kafkajs: new KafkaClientFactory(), rdkafka: new RdkafkaClientFactory() });
      expect(writer.client).toBe(client);
      return {
        destination: new KafkaDestination('e2e/kafka[0]', kafkaDestinationSchema.parse({ type: 'kafka', topic }), writer, []),
        delivered: async (payload) => !down && (await kafka.consume(topic, { count: 0, settleMs: 1_000 })).some((r) => r.value?.toString() === payload),
        dispose: () => writer.close(1_000),
      };
    },
  });
}

describe('a worker whose secondary destinations are all down', () => {
  const kafka = sharedKafka();
  let source: TestMqttBroker;
  let late: MosquittoBroker;
  let consumer: MqttClient;
  const received: Array<{ topic: string; payload: string }> = [];

  beforeAll(async () => {
    source = await testMqttBroker();
    // A persistent session made before the broker goes down: what the bridge publishes once the
    // broker is back is queued for it, however late the consumer reconnects.
    late = await MosquittoBroker.start();
    consumer = await mqttClient(late.url, { clientId: uniqueId('late'), clean: false, properties: { sessionExpiryInterval: 300 } });
    consumer.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await consumer.subscribeAsync('late/#', { qos: 1 });
    await late.stop();
  });

  afterAll(async () => {
    await consumer?.endAsync(true);
    await late?.destroy();
    await source?.stop();
  });

  it('starts while RabbitMQ, NATS and a second MQTT broker are unreachable, its Kafka-only rule delivers at once, an MQTT rule delivers once its broker returns, and stop() does not wait for the rest', async () => {
    const id = uniqueId();
    const [amqpPort, natsPort, mqttPort] = [await freePort(), await freePort(), await freePort()];
    await kafka.createTopic(`${id}.k`, 1);
    const started = Date.now();
    const bridge = await startWorker(`
mqtt: { url: ${source.url}, clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
rules:
  - name: kafka-only
    filters: ["${id}/k/#"]
    destinations:
      - { type: kafka, topic: ${id}.k }
  - name: late-mqtt
    filters: ["${id}/m/#"]
    destinations:
      - type: mqtt
        broker: { url: "${late.url}", reconnectPeriodMs: 200 }
        topic: "late/{topic}"
        retry: { initialMs: 50, maxMs: 250 }
  - name: secondary
    filters: ["${id}/s/#"]
    destinations:
      - { type: amqp, url: "amqp://guest:guest@127.0.0.1:${amqpPort}", routingKey: q }
      - { type: nats, servers: ["127.0.0.1:${natsPort}"], subject: "${id}.s" }
      - type: mqtt
        broker: { url: "mqtt://127.0.0.1:${mqttPort}" }
        topic: "s/{topic}"
`);
    const device = await mqttClient(source.url, { clientId: uniqueId('dev') });
    let stopped = false;
    try {
      // Connecting to the three brokers goes on in the background: starting did not wait for it.
      expect(Date.now() - started).toBeLessThan(10_000);
      await device.publishAsync(`${id}/s/1`, 'held', { qos: 1 });
      await device.publishAsync(`${id}/m/1`, 'late', { qos: 1 });
      await device.publishAsync(`${id}/k/1`, 'now', { qos: 1 });
      const [record] = await kafka.consume(`${id}.k`, { count: 1, timeoutMs: 10_000 });
      expect(record.value?.toString()).toBe('now');
      expect(received).toHaveLength(0);
      expect((await bridge.worker.readiness()).destinations).toEqual({
        'kafka-only/kafka[0]': true,
        'late-mqtt/mqtt[0]': false,
        'secondary/amqp[0]': false,
        'secondary/nats[1]': false,
        'secondary/mqtt[2]': false,
      });
      expect(await bridge.worker.stats.registry.getSingleMetricAsString('bridge_destination_up')).toContain(
        'bridge_destination_up{rule="secondary",destination="secondary/nats[1]"} 0',
      );

      await late.restart();
      await waitFor(
        () => received.some((m) => m.topic === `late/${id}/m/1` && m.payload === 'late'),
        20_000,
        "the MQTT rule's message once its broker returned",
      );
      await waitFor(async () => (await bridge.worker.readiness()).destinations['late-mqtt/mqtt[0]'], 5_000, 'the returned broker to show as up');
      // Only the message for the brokers still down is held.
      await waitFor(() => bridge.worker.inFlight === 1, 10_000, 'one message held');
      expect(await recordCount(kafka.brokers, `${id}.k`)).toBe(1);

      // Its writes are still waiting for RabbitMQ and NATS: stop() ends them instead of hanging.
      const stopping = Date.now();
      await bridge.dispose();
      stopped = true;
      expect(Date.now() - stopping).toBeLessThan(8_000);
    } finally {
      await device.endAsync();
      if (!stopped) await bridge.dispose();
    }
  });
});
