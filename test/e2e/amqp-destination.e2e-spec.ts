import { connect } from 'amqplib';
import { startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';
import { sharedKafka } from '../harness/shared-kafka';

/** The machine's RabbitMQ (.ci/run starts it when it is not running). */
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

describe('RabbitMQ destination', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();

  it('publishes with confirms to an exchange with routing key and headers from templates', async () => {
    const id = uniqueId();
    const rabbit = await connect(AMQP_URL);
    const channel = await rabbit.createChannel();
    await channel.assertExchange(`${id}.x`, 'topic', { durable: false, autoDelete: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, `${id}.x`, 'telemetry.#');
    const got: Array<{ key: string; body: string; headers: Record<string, unknown>; persistent: boolean }> = [];
    await channel.consume(queue, (m) => {
      if (!m) return;
      got.push({ key: m.fields.routingKey, body: m.content.toString(), headers: m.properties.headers ?? {}, persistent: m.properties.deliveryMode === 2 });
      channel.ack(m);
    });
    const bridge = await startWorker(`
mqtt: { url: ${mqtt.broker().url}, clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
rules:
  - name: rabbit
    filters: ["${id}/{site}/{metric}"]
    destinations:
      - type: amqp
        url: "${AMQP_URL}"
        exchange: ${id}.x
        routingKey: "telemetry.{site}.{metric}"
        headers: { site: "{site}" }
`);
    try {
      await mqtt.publisher().publishAsync(`${id}/lyon/temp`, '21.5', { qos: 1, properties: { userProperties: { unit: 'C' } } });
      await waitFor(() => got.length === 1, 10_000, 'the message in RabbitMQ');
      expect(got[0]).toMatchObject({ key: 'telemetry.lyon.temp', body: '21.5', persistent: true });
      expect(got[0].headers).toMatchObject({ 'mqtt.topic': `${id}/lyon/temp`, 'mqtt.qos': 1, 'mqtt.user.unit': 'C', site: 'lyon', 'bridge.rule': 'rabbit' });
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'the acknowledgement after the confirm');
    } finally {
      await bridge.dispose();
      await rabbit.close();
    }
  });

  it('dead-letters a message no queue is bound for (unroutable) and one for a missing exchange (no-exchange), and keeps delivering the others on the same connection', async () => {
    const id = uniqueId();
    const rabbit = await connect(AMQP_URL);
    const channel = await rabbit.createChannel();
    await channel.assertExchange(`${id}.x`, 'topic', { durable: false, autoDelete: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, `${id}.x`, 'telemetry.lyon.#');
    const got: string[] = [];
    await channel.consume(queue, (m) => {
      if (!m) return;
      got.push(m.content.toString());
      channel.ack(m);
    });
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(`
mqtt: { url: ${mqtt.broker().url}, clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: rabbit
    filters: ["${id}/{exchange}/{site}"]
    destinations:
      - type: amqp
        url: "${AMQP_URL}"
        exchange: "${id}.{exchange}"
        routingKey: "telemetry.{site}"
        retry: { initialMs: 50, maxMs: 500 }
`);
    try {
      const device = mqtt.publisher();
      await device.publishAsync(`${id}/x/lyon`, 'first', { qos: 1 });
      // Only lyon is bound: RabbitMQ returns this one (basic.return) before confirming it.
      await device.publishAsync(`${id}/x/oslo`, 'unroutable', { qos: 1 });
      // No such exchange: RabbitMQ closes the channel with 404 NOT_FOUND.
      await device.publishAsync(`${id}/missing/lyon`, 'no-exchange', { qos: 1 });
      await device.publishAsync(`${id}/x/lyon`, 'after', { qos: 1 });

      const letters = await kafka.consume(`${id}.dlq`, { count: 2, timeoutMs: 20_000, settleMs: 500 });
      const reasons = Object.fromEntries(letters.map((l) => [l.value?.toString(), String(l.headers['bridge.dlq.reason'])]));
      expect(reasons).toEqual({ unroutable: 'unroutable', 'no-exchange': 'no-exchange' });
      await waitFor(() => got.length === 2, 10_000, 'both routable messages in RabbitMQ');
      expect(got).toEqual(['first', 'after']);
      await waitFor(() => bridge.worker.inFlight === 0, 10_000, 'every message acknowledged');
    } finally {
      await bridge.dispose();
      await rabbit.close();
    }
  });
});
