import { createHash } from 'node:crypto';
import { sharedKafka } from '../harness/shared-kafka';
import { recordCount, startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';

/**
 * A payload larger than anything Kafka takes (Mosquitto accepts up to 256 MB) must not hold the
 * stream: it is dead-lettered with its payload cut, and everything behind it flows.
 */
describe('oversize payloads through real brokers', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();

  it('dead-letters 10 MB and 100 MB payloads in cut form while the small messages around them all arrive, and a restart writes nothing twice', async () => {
    const id = uniqueId('big');
    await kafka.createTopic(`${id}.out`, 1);
    await kafka.createTopic(`${id}.dlq`, 1);
    const yaml = `
mqtt: { url: ${mqtt.broker().url}, clientId: ${id}, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}] }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: stream
    filters: ["${id}/s/+"]
    destinations: [{ type: kafka, topic: ${id}.out, key: "stream" }]
`;
    const huge = [Buffer.alloc(10 * 1024 * 1024, 'a'), Buffer.alloc(100 * 1024 * 1024, 'b')];
    const small = 300;
    let bridge = await startWorker(yaml);
    try {
      const publisher = mqtt.publisher();
      for (let n = 0; n < small; n++) {
        if (n === 100) await publisher.publishAsync(`${id}/s/big`, huge[0], { qos: 1 });
        if (n === 200) await publisher.publishAsync(`${id}/s/big`, huge[1], { qos: 1 });
        await publisher.publishAsync(`${id}/s/${n % 3}`, String(n), { qos: 1 });
      }

      const records = await kafka.consume(`${id}.out`, { count: small, timeoutMs: 60_000, settleMs: 500 });
      expect(records.map((r) => Number(r.value!.toString()))).toEqual(Array.from({ length: small }, (_, i) => i));

      const dead = await kafka.consume(`${id}.dlq`, { count: 2, timeoutMs: 30_000 });
      expect(
        dead.map((d) => ({
          reason: String(d.headers['bridge.dlq.reason']),
          payload: String(d.headers['bridge.dlq.payload']),
          bytes: Number(String(d.headers['bridge.dlq.payload-bytes'])),
          sha256: String(d.headers['bridge.dlq.payload-sha256']),
          kept: d.value!.length,
        })),
      ).toEqual(
        huge.map((h) => ({
          reason: 'record-too-large',
          payload: 'cut',
          bytes: h.length,
          sha256: createHash('sha256').update(h).digest('hex'),
          kept: 1024,
        })),
      );
      await waitFor(() => bridge.worker.inFlight === 0, 20_000, 'every message to be acknowledged');
      expect(bridge.worker.stats.snapshot().stream).toMatchObject({ delivered: small });

      // Everything was acknowledged: a worker resuming the session gets nothing again.
      await bridge.dispose();
      bridge = await startWorker(yaml);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await recordCount(kafka.brokers, `${id}.out`)).toBe(small);
      expect(await recordCount(kafka.brokers, `${id}.dlq`)).toBe(2);
    } finally {
      await bridge.dispose();
    }
  }, 180_000);
});
