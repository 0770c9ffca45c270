import { MqttClient } from 'mqtt';
import { MosquittoBroker } from '../harness/mosquitto.broker';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, startWorker, testMqttBroker, TestMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';

describe('MQTT destination and fan-out', () => {
  const kafka = sharedKafka();
  let source: TestMqttBroker;
  let cloud: MosquittoBroker;
  let device: MqttClient;
  let consumer: MqttClient;
  const received: Array<{ topic: string; payload: string; qos: number; retain: boolean; props: Record<string, unknown> }> = [];

  beforeAll(async () => {
    source = await testMqttBroker();
    cloud = await MosquittoBroker.start();
    device = await mqttClient(source.url, { clientId: uniqueId('dev') });
    // A persistent session on the other broker (which persists to disk) survives its restart below.
    consumer = await mqttClient(cloud.url, { clientId: uniqueId('cloud'), clean: false, properties: { sessionExpiryInterval: 300 } });
    consumer.on('message', (topic, payload, packet) =>
      received.push({
        topic,
        payload: payload.toString(),
        qos: packet.qos,
        retain: packet.retain,
        props: { ...(packet.properties?.userProperties ?? {}), contentType: packet.properties?.contentType },
      }),
    );
  });

  afterAll(async () => {
    await device?.endAsync();
    await consumer?.endAsync();
    await source?.stop();
    await cloud?.stop();
  });

  it('maps topic, QoS and properties to another broker, and acknowledges only after Kafka and MQTT both confirmed', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.k`, 1);
    await consumer.subscribeAsync(`cloud/${id}/#`, { qos: 2 });
    const bridge = await startWorker(`
mqtt: { url: ${source.url}, clientId: ${id}, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}] }
rules:
  - name: fan
    filters: ["${id}/{site}/{metric}"]
    destinations:
      - { type: kafka, topic: ${id}.k, key: "{site}" }
      - type: mqtt
        broker: { url: "${cloud.url}" }
        topic: "cloud/${id}/{site}/{metric}"
        qos: { qos1: 2 }
`);
    try {
      await device.publishAsync(`${id}/lyon/temp`, '21.5', { qos: 1, properties: { userProperties: { unit: 'C' }, contentType: 'text/plain' } });
      await waitFor(() => received.length === 1, 10_000, 'the message on the other broker');
      expect(received[0]).toMatchObject({
        topic: `cloud/${id}/lyon/temp`,
        payload: '21.5',
        qos: 2,
        retain: false,
        props: { unit: 'C', contentType: 'text/plain' },
      });
      await kafka.consume(`${id}.k`, { count: 1 });
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'the acknowledgement');

      // With the other broker down, the Kafka copy is written but the message is not acknowledged
      // until the MQTT destination confirms too.
      await cloud.stop();
      await device.publishAsync(`${id}/oslo/temp`, '-3', { qos: 1 });
      await waitFor(async () => (await recordCount(kafka.brokers, `${id}.k`)) === 2, 10_000, 'the Kafka copy');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(bridge.worker.inFlight).toBe(1);
      await cloud.restart();
      await waitFor(() => bridge.worker.inFlight === 0, 30_000, 'the acknowledgement after the other broker returned');
      await waitFor(() => received.some((m) => m.topic === `cloud/${id}/oslo/temp` && m.payload === '-3'), 20_000, 'the queued publish on the other broker');
    } finally {
      await bridge.dispose();
    }
  });
});
