import { MqttClient } from 'mqtt';
import { AckPolicy, connect, NatsConnection } from 'nats';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, startWorker, testMqttBroker, TestMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';

/** The machine's NATS with JetStream (.ci/run starts it when it is not running). */
const NATS = '127.0.0.1:4222';

describe('NATS JetStream destination', () => {
  const kafka = sharedKafka();
  let mosquitto: TestMqttBroker;
  let device: MqttClient;
  let nats: NatsConnection;

  beforeAll(async () => {
    mosquitto = await testMqttBroker();
    device = await mqttClient(mosquitto.url, { clientId: uniqueId('dev') });
    nats = await connect({ servers: NATS });
  });

  afterAll(async () => {
    await device?.endAsync();
    await mosquitto?.stop();
    await nats?.drain();
  });

  it('stores messages in a stream with subject and headers from templates; a subject no stream captures is dead-lettered', async () => {
    const id = uniqueId();
    const jsm = await nats.jetstreamManager();
    await jsm.streams.add({ name: `S_${id}`, subjects: [`${id}.lyon.>`] });
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(`
mqtt: { url: ${mosquitto.url}, clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: js
    filters: ["${id}/{site}/{metric}"]
    destinations:
      - type: nats
        servers: ["${NATS}"]
        subject: "${id}.{site}.{metric}"
        headers: { site: "{site}" }
`);
    try {
      // The stream captures <id>.lyon.> only: the oslo message has nowhere to go.
      await device.publishAsync(`${id}/lyon/temp`, '21.5', { qos: 1, properties: { userProperties: { unit: 'C' } } });
      await device.publishAsync(`${id}/oslo/temp`, 'lost?', { qos: 1 });
      await waitFor(async () => (await jsm.streams.info(`S_${id}`)).state.messages === 1, 10_000, 'the message in the stream');
      const consumer = await jsm.consumers.add(`S_${id}`, { ack_policy: AckPolicy.None });
      const js = nats.jetstream();
      const stored = await (await js.consumers.get(`S_${id}`, consumer.name)).next();
      expect(stored?.subject).toBe(`${id}.lyon.temp`);
      expect(stored?.string()).toBe('21.5');
      expect(stored?.headers?.get('mqtt.topic')).toBe(`${id}/lyon/temp`);
      expect(stored?.headers?.get('mqtt.user.unit')).toBe('C');
      expect(stored?.headers?.get('site')).toBe('lyon');

      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1 });
      expect(String(letter.headers['bridge.dlq.reason'])).toBe('no-stream');
      expect(letter.value?.toString()).toBe('lost?');
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'the acknowledgements');
    } finally {
      await bridge.dispose();
      await jsm.streams.delete(`S_${id}`);
    }
  });
});
