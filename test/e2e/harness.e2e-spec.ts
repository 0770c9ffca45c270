/**
 * Proves the real-broker harness itself: a private mosquitto (pub/sub, persistent session across a
 * broker restart) and the shared Kafka from global setup (produce/consume, consume timeout, restart
 * of the shared broker from a test worker with its data intact).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { Partitioners } from 'kafkajs';
import { connect as mqttConnect, connectAsync, type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { waitFor } from '@app/core/testing/wait-for';
import { MosquittoBroker } from '../harness/mosquitto.broker';
import { sharedKafka, kafkaStateFile } from '../harness/shared-kafka';
import { externalBrokersFromEnv, type KafkaBroker } from '../harness/kafka.broker';

const uid = () => randomBytes(4).toString('hex');

describe('harness: mosquitto', () => {
  let broker: MosquittoBroker;
  const clients: MqttClient[] = [];
  const base: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5000 };

  async function connect(opts: IClientOptions = {}): Promise<MqttClient> {
    const client = await connectAsync(broker.url, { ...base, ...opts });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    broker = await MosquittoBroker.start();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  });

  afterAll(async () => {
    await broker?.destroy();
  });

  it('relays a QoS 1 message from a publisher to a subscriber', async () => {
    const topic = `harness/${uid()}/pubsub`;
    const sub = await connect();
    await sub.subscribeAsync(topic, { qos: 1 });
    const received = new Promise<{ payload: Buffer; qos: number }>((resolve) =>
      sub.on('message', (t, payload, packet) => t === topic && resolve({ payload, qos: packet.qos })),
    );

    const pub = await connect();
    await pub.publishAsync(topic, 'hello', { qos: 1 });

    const msg = await received;
    expect(msg.payload.toString()).toBe('hello');
    expect(msg.qos).toBe(1);
  });

  it('keeps a persistent session (and its queued QoS 1 messages) across a broker restart', async () => {
    const topic = `harness/${uid()}/persistent`;
    const session: IClientOptions = {
      ...base,
      clientId: `harness-persistent-${uid()}`,
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 300 },
    };

    const first = await connect(session);
    await first.subscribeAsync(topic, { qos: 1 });
    await first.endAsync(); // subscriber goes away; its session stays on the broker

    const pub = await connect();
    await pub.publishAsync(topic, 'while-away', { qos: 1 });
    await pub.endAsync();

    const pidBefore = broker.pid;
    await broker.restart(); // graceful: mosquitto saves its database, then starts from it
    expect(broker.pid).not.toBe(pidBefore);

    const pubAfter = await connect();
    await pubAfter.publishAsync(topic, 'after-restart', { qos: 1 }); // the restored subscription must queue it

    // Handlers go on before CONNACK arrives: queued messages follow it immediately.
    const again = mqttConnect(broker.url, session);
    clients.push(again);
    const received: string[] = [];
    again.on('message', (t, payload, packet) => {
      if (t === topic) received.push(`${payload.toString()}@qos${packet.qos}`);
    });
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      again.once('connect', resolve);
      again.once('error', reject);
    });
    expect(connack.sessionPresent).toBe(true);

    await waitFor(() => received.length >= 2, 10_000, `2 queued messages (got ${received.join(', ') || 'none'})`);
    expect(received).toEqual(['while-away@qos1', 'after-restart@qos1']);
  });
});

describe('harness: shared kafka', () => {
  let kafka: KafkaBroker;

  beforeAll(() => {
    kafka = sharedKafka();
  });

  async function produce(topic: string, messages: { key: string; value: string; headers?: Record<string, string> }[]) {
    const producer = kafka.kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
  }

  it("is the broker global setup exported to the test workers (or the user's KAFKA_BROKERS)", () => {
    expect(process.env.KAFKA_BROKERS).toBeTruthy();
    expect(kafka.brokers).toEqual(process.env.KAFKA_BROKERS!.split(','));
    if (kafka.controllable) expect(kafka.running).toBe(true);
  });

  it('produces and consumes a message with key and headers', async () => {
    const topic = `harness-${uid()}`;
    await kafka.createTopic(topic, 3);
    await produce(topic, [{ key: 'device-1', value: '{"t":21.5}', headers: { source: 'harness' } }]);

    const [msg, ...rest] = await kafka.consume(topic, { count: 1, timeoutMs: 30_000, settleMs: 200 });
    expect(rest).toHaveLength(0);
    expect(msg.topic).toBe(topic);
    expect(msg.key?.toString()).toBe('device-1');
    expect(msg.value?.toString()).toBe('{"t":21.5}');
    expect(msg.headers.source?.toString()).toBe('harness');
    expect(msg.partition).toBeGreaterThanOrEqual(0);
    expect(msg.offset).toBe('0');
  });

  it('consume() rejects with how many messages arrived when the timeout hits', async () => {
    const topic = `harness-${uid()}`;
    await kafka.createTopic(topic, 1);
    await produce(topic, [{ key: 'only', value: 'one' }]);
    await expect(kafka.consume(topic, { count: 2, timeoutMs: 6000 })).rejects.toThrow(/with 1 of 2 message/);
  });

  // Not on an external cluster (KAFKA_BROKERS set by the user): the harness cannot restart that.
  const itControllable = externalBrokersFromEnv() ? it.skip : it;

  itControllable('restarts the shared broker from a test worker: same port, data kept, new pid recorded', async () => {
    const topic = `harness-${uid()}`;
    await kafka.createTopic(topic, 3);
    await produce(topic, [{ key: 'k', value: 'before-restart' }]);

    const before = kafka.state();
    await kafka.restart();
    const after = kafka.state();
    expect(after.pid).not.toBe(before.pid);
    expect([after.port, after.controllerPort, after.dir]).toEqual([before.port, before.controllerPort, before.dir]);
    expect(JSON.parse(fs.readFileSync(kafkaStateFile(), 'utf8')).pid).toBe(after.pid); // teardown stops this one

    const msgs = await kafka.consume(topic, { count: 1, timeoutMs: 30_000 });
    expect(msgs.map((m) => m.value?.toString())).toEqual(['before-restart']);
  });
});
