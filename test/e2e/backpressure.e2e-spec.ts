import { Logger } from '@nestjs/common';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';

/**
 * While Kafka is down the worker holds its intake at maxInFlight and reads no packet, so the
 * broker's PINGRESP waits behind queued PUBLISH packets. The connection is alive all along and
 * must stay up: a disconnect makes the broker resend everything unacknowledged (duplicates).
 * Scaled down from the field report (150 s outage at 2,000 msg/s, keepalive 30 s): the outage
 * lasts several keepalive timeouts (keepalive 2 s, 1.5 x = 3 s, Kafka down 12 s).
 */
describe('back-pressure through real brokers', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();

  it('keeps a healthy broker connection while intake is held through a Kafka outage, and catches up without duplicates', async () => {
    const id = uniqueId('bp');
    await kafka.createTopic(`${id}.out`, 3);
    const warnings = jest.spyOn(Logger.prototype, 'warn');
    const bridge = await startWorker(`
mqtt: { url: ${mqtt.broker().url}, clientId: ${id}, keepaliveSeconds: 2, maxInFlight: 100, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}], producer: { retry: { initialMs: 100, maxMs: 500 } } }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: stream
    filters: ["${id}/s/{k}"]
    destinations: [{ type: kafka, topic: ${id}.out, key: "{k}" }]
`);
    const publisher = await mqttClient(mqtt.broker().url, { clientId: uniqueId('pub') });
    try {
      let sent = 0;
      const publishFor = async (ms: number) => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          await Promise.all(Array.from({ length: 20 }, () => publisher.publishAsync(`${id}/s/${sent % 10}`, String(sent++), { qos: 1 })));
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await publishFor(1_000);
      await kafka.stop();
      try {
        await publishFor(12_000);
      } finally {
        await kafka.restart();
      }
      await publishFor(1_000);

      const records = await kafka.consume(`${id}.out`, { count: sent, timeoutMs: 90_000, settleMs: 1_000 });
      const seen = new Set(records.map((r) => Number(r.value!.toString())));
      expect({ missing: Array.from({ length: sent }, (_, i) => i).filter((n) => !seen.has(n)) }).toEqual({ missing: [] });
      expect(await recordCount(kafka.brokers, `${id}.out`)).toBe(sent);
      const disconnects = warnings.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('disconnected from'));
      expect(disconnects).toEqual([]);
      await waitFor(() => bridge.worker.inFlight === 0, 20_000, 'every message to be acknowledged');
    } finally {
      warnings.mockRestore();
      await publisher.endAsync();
      if (!kafka.running) await kafka.restart();
      await bridge.dispose();
    }
  }, 180_000);
});
