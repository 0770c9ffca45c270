import { KafkaBroker } from '../harness/kafka.broker';
import { recordCount, startWorkerless, uniqueId, useMqtt } from './support/bridge.fixture';

/**
 * The first consumer group on a new cluster has no coordinator until Kafka has created its offsets
 * topic: a replay run then must wait for it, not fail.
 */
describe('replay on a fresh Kafka', () => {
  const mqtt = useMqtt();
  let kafka: KafkaBroker;

  beforeAll(async () => {
    // Kafka's default of 50 offsets partitions, as on a real cluster: the coordinator takes seconds to appear.
    kafka = await KafkaBroker.start({ useEnv: false, properties: { 'offsets.topic.num.partitions': 50 } });
  }, 120_000);

  afterAll(async () => {
    await kafka?.destroy();
  });

  it('delivers on its first run, before any consumer group ever existed', async () => {
    const id = uniqueId('rf');
    await kafka.createTopic(`${id}.dlq`, 1);
    const producer = kafka.kafka().producer();
    await producer.connect();
    await producer.send({
      topic: `${id}.dlq`,
      messages: [
        {
          key: `${id}/d1`,
          value: 'late',
          headers: { 'mqtt.topic': `${id}/d1`, 'mqtt.qos': '1', 'bridge.rule': 'r', 'bridge.dlq.reason': 'destination-unavailable' },
        },
      ],
    });
    await producer.disconnect();

    const { worker, dispose } = await startWorkerless(`
mqtt: { url: ${mqtt.broker().url}, clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
rules:
  - name: r
    filters: ["${id}/{device}"]
    destinations: [{ type: kafka, topic: ${id}.out, key: "{device}" }]
    deadLetter: { topic: ${id}.dlq }
`);
    try {
      const lines: string[] = [];
      const report = await worker.replay('r', { dryRun: false }, (l) => lines.push(`${l.result}: ${l.detail}`));
      expect(lines).toEqual(['delivered: r/kafka[0]']);
      expect(report).toMatchObject({ examined: 1, replayed: 1, delivered: 1, failed: 0 });
      const [delivered] = await kafka.consume(`${id}.out`, { count: 1, settleMs: 500 });
      expect(delivered.value!.toString()).toBe('late');
      expect(await recordCount(kafka.brokers, `${id}.out`)).toBe(1);
    } finally {
      await dispose();
    }
  });
});
