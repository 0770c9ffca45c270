import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';

/**
 * MQTT 5 properties that are not UTF-8 are decoded with U+FFFD in place of the bad bytes, and the
 * original bytes are gone: forwarding the value would alter it silently, so the message is
 * dead-lettered with its reason. Mosquitto 2.0 refuses such a PUBLISH itself (it closes the
 * connection), so the case is driven from Kafka, where a record's `mqtt.user.*` header is bytes.
 */
describe('MQTT 5 properties that are not UTF-8', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();

  it('dead-letters a Kafka record whose user property header is not UTF-8, and forwards the valid ones unchanged', async () => {
    const id = uniqueId('u8');
    await kafka.createTopic(`${id}.cmd`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    const device = await mqttClient(mqtt.broker().url, { clientId: uniqueId('dev') });
    const received: Array<{ topic: string; unit: unknown }> = [];
    device.on('message', (topic, _payload, packet) => received.push({ topic, unit: packet.properties?.userProperties?.unit }));
    await device.subscribeAsync(`${id}/#`, { qos: 1 });
    const bridge = await startWorker(`
mqtt: { url: ${mqtt.broker().url}, clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
deadLetter: { topic: ${id}.dlq }
fromKafka:
  - name: cmd
    kafka: { groupId: ${id}.g, topics: [${id}.cmd] }
    mqtt: { topic: "${id}/{key}" }
`);
    const producer = kafka.kafka().producer();
    await producer.connect();
    try {
      await producer.send({
        topic: `${id}.cmd`,
        messages: [
          { key: 'bad', value: 'reboot', headers: { 'mqtt.user.unit': Buffer.from([0x61, 0xc3, 0x28]) } },
          { key: 'good', value: 'reboot', headers: { 'mqtt.user.unit': '°C' } },
        ],
      });
      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1, settleMs: 500 });
      expect(String(letter.headers['bridge.dlq.reason'])).toBe('invalid-utf8');
      expect(String(letter.headers['bridge.dlq.message'])).toBe('the MQTT 5 user property "unit" was not valid UTF-8 (replaced by U+FFFD on receipt)');
      expect(String(letter.headers['kafka.key'])).toBe('bad');
      await waitFor(() => received.length === 1, 10_000, 'the valid command on MQTT');
      expect(received).toEqual([{ topic: `${id}/good`, unit: '°C' }]);
    } finally {
      await producer.disconnect();
      await device.endAsync();
      await bridge.dispose();
    }
  });
});
