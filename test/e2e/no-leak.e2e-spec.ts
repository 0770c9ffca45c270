import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedKafka } from '../harness/shared-kafka';
import { uniqueId, useMqtt, waitFor } from './support/bridge.fixture';
import { spawnBridge } from './support/bridge.process';
import { writeTestKeys } from './support/key.fixture';

/**
 * Payloads may be plaintext the bridge decrypted: no failure path, in either direction, may put
 * their bytes into a log line or a dead-letter header. Every message below carries a marker and
 * fails in its own way; the worker's whole output (debug level) and every header of every dead
 * letter are searched for it.
 */
describe('no payload bytes in logs or dead-letter headers', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-leak-e2e-'));
  const MARKER = 'PAYLOADSECRET7731';

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the marker out of every failure path of MQTT -> Kafka and Kafka -> MQTT', async () => {
    const id = uniqueId('leak');
    for (const t of ['out', 'dlq', 'cmd', 'sealedcmd']) await kafka.createTopic(`${id}.${t}`, 1);
    const keysFile = (await writeTestKeys(dir, { devices: 'symmetric' })).file;
    const file = join(dir, 'leak.yaml');
    writeFileSync(
      file,
      `mqtt: { url: "${mqtt.broker().url}", clientId: ${id} }
kafka: { brokers: [${kafka.brokers.join(',')}] }
http: { enabled: false }
log: { level: debug, format: json }
keys: { file: ${keysFile} }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: sealed
    filters: ["${id}/sealed/+"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: ${id}.out }]
  - name: addr
    filters: ["${id}/addr/{kind}"]
    destinations: [{ type: kafka, topic: "${id}.{kind}" }]
  - name: big
    filters: ["${id}/big"]
    destinations: [{ type: kafka, topic: ${id}.out }]
fromKafka:
  - name: cmd
    kafka: { groupId: ${id}.g1, topics: [${id}.cmd] }
    mqtt: { topic: "${id}/dev/{payload.kind}" }
  - name: sealedcmd
    kafka: { groupId: ${id}.g2, topics: [${id}.sealedcmd] }
    transform: { mode: decrypt, sourceKey: devices }
    mqtt: { topic: "${id}/sealed-out" }
`,
    );
    const worker = spawnBridge(['run', file]);
    try {
      await waitFor(() => worker.started(), 30_000, 'the worker to start');
      const publisher = mqtt.publisher();
      // MQTT -> Kafka: not an envelope; a topic Kafka refuses; a record too large (dead-lettered cut).
      await publisher.publishAsync(`${id}/sealed/d1`, `not an envelope ${MARKER}`, { qos: 1 });
      await publisher.publishAsync(`${id}/addr/bad kind`, `{"v":"${MARKER}"}`, { qos: 1 });
      await publisher.publishAsync(`${id}/big`, Buffer.concat([Buffer.from(MARKER), Buffer.alloc(2 * 1024 * 1024, MARKER)]), { qos: 1 });
      // Kafka -> MQTT: a payload field that would be two topic levels; one with a control
      // character the broker refuses in a topic; a value that is not JSON; not an envelope.
      const producer = kafka.kafka().producer();
      await producer.connect();
      await producer.send({
        topic: `${id}.cmd`,
        messages: [{ value: `{"kind":"evil/${MARKER}"}` }, { value: `{"kind":"${MARKER}\\u0001x"}` }, { value: `${MARKER} is not JSON` }],
      });
      await producer.send({ topic: `${id}.sealedcmd`, messages: [{ value: `sealed? ${MARKER}` }] });
      await producer.disconnect();

      const letters = await kafka.consume(`${id}.dlq`, { count: 7, timeoutMs: 60_000, settleMs: 1_000 });
      expect(letters.map((l) => String(l.headers['bridge.rule'])).sort()).toEqual(['addr', 'big', 'cmd', 'cmd', 'cmd', 'sealed', 'sealedcmd']);
      const leakingHeaders = letters.flatMap((l) =>
        Object.entries(l.headers)
          .filter(([name, value]) => name.includes(MARKER) || [value].flat().some((v) => String(v).includes(MARKER)))
          .map(([name]) => `${String(l.headers['bridge.rule'])}: ${name}`),
      );
      expect(leakingHeaders).toEqual([]);
      const leakingLines = worker
        .output()
        .split('\n')
        .filter((line) => line.includes(MARKER));
      expect(leakingLines).toEqual([]);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  }, 120_000);
});
