import { MqttClient } from 'mqtt';
import { sharedKafka } from '../harness/shared-kafka';
import { ConsumedMessage } from '../harness/kafka.broker';
import { mqttClient, recordCount, startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';
import { configYaml } from './support/config.builder';

/**
 * Records without a key (`key: ""`) on the idempotent lane: a retried or split batch must keep
 * every record's partition, or the broker's sequence check either refuses the lane for ever or
 * takes a different record for one it already has (silent loss). Every message is counted.
 */
describe('keyless Kafka records through real brokers', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();

  function config(id: string, rules: string): string {
    return configYaml(
      {
        mqtt: { url: mqtt.broker().url, clientId: id, session: { persistent: true }, maxInFlight: 2000 },
        kafka: { brokers: kafka.brokers, producer: { retry: { initialMs: 100, maxMs: 1000 } } },
        deadLetter: { topic: `${id}.dlq` },
      },
      { rules },
    );
  }

  /** Publishes `count` numbered QoS 1 messages over `topics` topics, `perTick` every 20 ms, with a few publishers at once. */
  async function publishStream(
    client: MqttClient,
    prefix: string,
    count: number,
    perTick: number,
    topics: number,
    extra?: (n: number) => Promise<void>,
  ): Promise<void> {
    for (let n = 0; n < count;) {
      const tick = Date.now();
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < perTick && n < count; i++, n++) {
        sends.push(client.publishAsync(`${prefix}/${n % topics}`, String(n), { qos: 1 }));
        if (extra) sends.push(extra(n));
      }
      await Promise.all(sends);
      await new Promise((r) => setTimeout(r, Math.max(0, 20 - (Date.now() - tick))));
    }
  }

  /** Sequence numbers missing from `records`, and those written more than once (with where). */
  function audit(records: readonly ConsumedMessage[], sent: number): { missing: number[]; twice: string[] } {
    const seen = new Map<number, string[]>();
    for (const r of records) {
      const n = Number(r.value!.toString());
      seen.set(n, [...(seen.get(n) ?? []), `p${r.partition}/o${r.offset}`]);
    }
    const missing = Array.from({ length: sent }, (_, i) => i).filter((n) => !seen.has(n));
    const twice = [...seen].filter(([, where]) => where.length > 1).map(([n, where]) => `${n} at ${where.join(', ')}`);
    return { missing, twice };
  }

  it('loses and doubles nothing of a keyless stream while records on the same lane are refused', async () => {
    const id = uniqueId('kl');
    await kafka.createTopic(`${id}.out`, 3);
    // The broker refuses these records whatever the bridge's own limit says.
    await kafka.createTopic(`${id}.tight`, 3, { 'max.message.bytes': '1000' });
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: keyless
    filters: ["${id}/k/+"]
    destinations: [{ type: kafka, topic: ${id}.out, key: "" }]
  - name: tight
    filters: ["${id}/big/+"]
    destinations: [{ type: kafka, topic: ${id}.tight, key: "" }]
`,
      ),
    );
    const publisher = await mqttClient(mqtt.broker().url, { clientId: uniqueId('pub') });
    try {
      const sent = 2_500;
      let big = 0;
      const oversize = Buffer.alloc(3_000, 'x');
      await publishStream(publisher, `${id}/k`, sent, 10, 5, async (n) => {
        if (n % 97 === 0) {
          big++;
          await publisher.publishAsync(`${id}/big/${n % 3}`, oversize, { qos: 1 });
        }
      });

      const records = await kafka.consume(`${id}.out`, { count: sent, timeoutMs: 90_000, settleMs: 1_000 });
      expect(audit(records, sent)).toEqual({ missing: [], twice: [] });
      expect(await recordCount(kafka.brokers, `${id}.out`)).toBe(sent);

      const dead = await kafka.consume(`${id}.dlq`, { count: big, timeoutMs: 60_000 });
      expect(dead.map((d) => String(d.headers['bridge.dlq.reason']))).toEqual(Array(big).fill('record-too-large'));
      await waitFor(() => bridge.worker.inFlight === 0, 20_000, 'every message to be acknowledged');
    } finally {
      await publisher.endAsync();
      await bridge.dispose();
    }
  });

  it('writes every keyless message once to a topic that does not exist yet, under concurrent bursts', async () => {
    const id = uniqueId('nk');
    await kafka.createTopic(`${id}.dlq`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: fresh
    filters: ["${id}/+/+"]
    destinations: [{ type: kafka, topic: ${id}.new, key: "" }]
`,
      ),
    );
    const publishers = await Promise.all(Array.from({ length: 10 }, () => mqttClient(mqtt.broker().url, { clientId: uniqueId('pub') })));
    try {
      let next = 0;
      const burst = () => Promise.all(publishers.map((p, i) => p.publishAsync(`${id}/b/${i}`, String(next++), { qos: 1 })));
      const steady = (async () => {
        for (let i = 0; i < 20; i++) {
          await publishers[0].publishAsync(`${id}/s/0`, String(next++), { qos: 1 });
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      await burst();
      await burst();
      await steady;
      const sent = next;

      const records = await kafka.consume(`${id}.new`, { count: sent, timeoutMs: 60_000, settleMs: 1_000 });
      expect(audit(records, sent)).toEqual({ missing: [], twice: [] });
      expect(await recordCount(kafka.brokers, `${id}.new`)).toBe(sent);
      await waitFor(() => bridge.worker.inFlight === 0, 20_000, 'every message to be acknowledged');
    } finally {
      await Promise.all(publishers.map((p) => p.endAsync()));
      await bridge.dispose();
    }
  });
});
