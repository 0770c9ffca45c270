import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';
import { configYaml } from './support/config.builder';

describe('bridge: MQTT -> Kafka on real Mosquitto and Kafka', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();

  function config(id: string, rules: string, mqttExtra: Record<string, unknown> = {}): string {
    return configYaml(
      {
        mqtt: { url: mqtt.broker().url, clientId: id, session: { persistent: true, expirySeconds: 600 }, ...mqttExtra },
        kafka: { brokers: kafka.brokers, producer: { retry: { initialMs: 100, maxMs: 1000 } } },
        deadLetter: { topic: `${id}.dlq` },
      },
      { rules },
    );
  }

  /** Topics exist before anything is consumed from them (a consumer cannot subscribe to a missing topic). */
  async function topics(...names: string[]): Promise<void> {
    for (const name of names) await kafka.createTopic(name, 1);
  }

  it('routes + and # filters with captures into topic, key and headers', async () => {
    const id = uniqueId();
    await topics(`${id}.telemetry.lyon`, `${id}.all`);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: telemetry
    filters: ["${id}/sensors/{site}/{device}/{metric}"]
    destinations:
      - type: kafka
        topic: ${id}.telemetry.{site}
        key: "{device}"
        headers: { metric: "{metric}", origin: "{level.0}" }
  - name: everything
    filters: ["${id}/#"]
    destinations:
      - { type: kafka, topic: ${id}.all, mqttHeaders: minimal }
`,
      ),
    );
    try {
      await mqtt.publisher().publishAsync(`${id}/sensors/lyon/dev-7/temp`, '21.5', {
        qos: 1,
        properties: { userProperties: { unit: 'C' }, contentType: 'text/plain', correlationData: Buffer.from([9, 8]) },
      });
      await mqtt.publisher().publishAsync(`${id}/other`, 'x', { qos: 1 });

      const [record] = await kafka.consume(`${id}.telemetry.lyon`, { count: 1, settleMs: 500 });
      expect(record.key?.toString()).toBe('dev-7');
      expect(record.value?.toString()).toBe('21.5');
      const h = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : String(v)]));
      expect(String(h['mqtt.topic'])).toBe(`${id}/sensors/lyon/dev-7/temp`);
      expect(String(h['mqtt.qos'])).toBe('1');
      expect(String(h['mqtt.retain'])).toBe('false');
      expect(String(h['mqtt.user.unit'])).toBe('C');
      expect(String(h['mqtt.content-type'])).toBe('text/plain');
      expect(h['mqtt.correlation-data']).toEqual(Buffer.from([9, 8]));
      expect(String(h.metric)).toBe('temp');
      expect(String(h.origin)).toBe(id);

      const all = await kafka.consume(`${id}.all`, { count: 2, settleMs: 500 });
      expect(all.map((m) => m.key?.toString()).sort()).toEqual([`${id}/other`, `${id}/sensors/lyon/dev-7/temp`].sort());
      // mqttHeaders: minimal keeps the MQTT topic and the properties the publisher set, nothing else.
      const telemetry = all.find((m) => m.key?.toString() === `${id}/sensors/lyon/dev-7/temp`)!;
      expect(Object.keys(telemetry.headers).sort()).toEqual(['mqtt.content-type', 'mqtt.correlation-data', 'mqtt.topic', 'mqtt.user.unit']);
      expect(String(telemetry.headers['mqtt.topic'])).toBe(`${id}/sensors/lyon/dev-7/temp`);
      const other = all.find((m) => m.key?.toString() === `${id}/other`)!;
      expect(Object.keys(other.headers)).toEqual(['mqtt.topic']);
    } finally {
      await bridge.dispose();
    }
  });

  it('hands a message to every overlapping rule exactly once', async () => {
    const id = uniqueId();
    await topics(`${id}.wide`, `${id}.narrow`, `${id}.exact`);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: wide
    filters: ["${id}/#", "${id}/+/x"]
    destinations: [{ type: kafka, topic: ${id}.wide }]
  - name: narrow
    filters: ["${id}/+/x"]
    destinations: [{ type: kafka, topic: ${id}.narrow }]
  - name: exact
    filters: ["${id}/a/x"]
    destinations: [{ type: kafka, topic: ${id}.exact }]
`,
      ),
    );
    try {
      await mqtt.publisher().publishAsync(`${id}/a/x`, '1', { qos: 1 });
      await mqtt.publisher().publishAsync(`${id}/b/y`, '2', { qos: 1 });
      await kafka.consume(`${id}.wide`, { count: 2 });
      await kafka.consume(`${id}.narrow`, { count: 1 });
      await kafka.consume(`${id}.exact`, { count: 1 });
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'in-flight messages to settle');
      expect(await recordCount(kafka.brokers, `${id}.wide`)).toBe(2);
      expect(await recordCount(kafka.brokers, `${id}.narrow`)).toBe(1);
      expect(await recordCount(kafka.brokers, `${id}.exact`)).toBe(1);
    } finally {
      await bridge.dispose();
    }
  });

  it('delivers 10,000 QoS 1 messages over 100 topics, in order per topic', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.bulk`, 6);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: bulk
    filters: ["${id}/dev/+"]
    destinations: [{ type: kafka, topic: ${id}.bulk }]
`,
      ),
    );
    try {
      const sends: Promise<unknown>[] = [];
      for (let seq = 0; seq < 100; seq++) {
        for (let t = 0; t < 100; t++) sends.push(mqtt.publisher().publishAsync(`${id}/dev/${t}`, String(seq), { qos: 1 }));
      }
      await Promise.all(sends);
      const records = await kafka.consume(`${id}.bulk`, { count: 10_000, timeoutMs: 90_000 });
      const perTopic = new Map<string, number[]>();
      for (const r of records) {
        const key = r.key!.toString();
        perTopic.set(key, [...(perTopic.get(key) ?? []), Number(r.value!.toString())]);
      }
      expect(perTopic.size).toBe(100);
      const expected = Array.from({ length: 100 }, (_, i) => i);
      for (const [, seqs] of perTopic) expect(seqs).toEqual(expected);
    } finally {
      await bridge.dispose();
    }
  });

  it.each([
    [5, 1],
    [5, 2],
    [4, 1],
    [4, 2],
  ])('withholds the acknowledgement (MQTT %s, QoS %s) while Kafka is down; the broker redelivers', async (protocol, qos) => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.held`, 1);
    const yaml = config(
      id,
      `
  - name: held
    filters: ["${id}/held/#"]
    qos: ${qos}
    destinations: [{ type: kafka, topic: ${id}.held }]
`,
      { protocolVersion: protocol },
    );
    const first = await startWorker(yaml);
    let second: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      await kafka.stop();
      await mqtt.publisher().publishAsync(`${id}/held/1`, 'while-kafka-down', { qos: qos as 1 | 2 });
      await waitFor(() => first.worker.inFlight === 1, 5_000, 'the message to reach the bridge');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(first.worker.inFlight).toBe(1);
      // Leave without acknowledging: had the bridge acknowledged, the broker would not hold the message any more.
      await first.worker.stop(0);
      await kafka.restart();
      second = await startWorker(yaml);
      const [record] = await kafka.consume(`${id}.held`, { count: 1, timeoutMs: 60_000, settleMs: 500 });
      expect(record.value?.toString()).toBe('while-kafka-down');
      expect(String(record.headers['mqtt.qos'])).toBe(String(qos));
      expect(await recordCount(kafka.brokers, `${id}.held`)).toBe(1);
    } finally {
      if (!kafka.running) await kafka.restart();
      await second?.dispose();
      await first.dispose().catch(() => undefined);
    }
  });

  it('keeps retrying while Kafka is down and acknowledges once it is back', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.retry`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: retry
    filters: ["${id}/r"]
    destinations: [{ type: kafka, topic: ${id}.retry }]
`,
      ),
    );
    try {
      await kafka.stop();
      await mqtt.publisher().publishAsync(`${id}/r`, 'a', { qos: 1 });
      await mqtt.publisher().publishAsync(`${id}/r`, 'b', { qos: 1 });
      await waitFor(() => bridge.worker.inFlight === 2, 5_000, 'two messages in flight');
      await kafka.restart();
      const records = await kafka.consume(`${id}.retry`, { count: 2, timeoutMs: 60_000 });
      expect(records.map((r) => r.value?.toString())).toEqual(['a', 'b']);
      await waitFor(() => bridge.worker.inFlight === 0, 10_000, 'acknowledgements');
    } finally {
      if (!kafka.running) await kafka.restart();
      await bridge.dispose();
    }
  });

  // Mosquitto 2.0.11 exceeds the receive maximum once messages are queued for the session, and
  // MQTT.js used to close the connection over it (test/faults/README.md, "Findings"): every
  // unacknowledged message came again. Covers the MQTT.js internals the source relies on for this.
  it('takes a QoS 2 backlog beyond maxInFlight after Kafka is back without reconnecting or duplicates', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.backlog`, 1);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: backlog
    filters: ["${id}/b"]
    qos: 2
    destinations: [{ type: kafka, topic: ${id}.backlog }]
`,
        { maxInFlight: 20 },
      ),
    );
    const count = 300;
    try {
      await kafka.stop();
      for (let i = 0; i < count; i++) await mqtt.publisher().publishAsync(`${id}/b`, String(i), { qos: 2 });
      await waitFor(() => bridge.worker.inFlight >= 20, 10_000, 'the source holding maxInFlight messages');
      await kafka.restart();
      const records = await kafka.consume(`${id}.backlog`, { count, timeoutMs: 60_000 });
      expect(records.map((r) => Number(r.value?.toString()))).toEqual(Array.from({ length: count }, (_, i) => i));
      await waitFor(() => bridge.worker.inFlight === 0, 10_000, 'acknowledgements');
    } finally {
      if (!kafka.running) await kafka.restart();
      await bridge.dispose();
    }
  });

  it('receives what was published while the worker was away (persistent session)', async () => {
    const id = uniqueId();
    await topics(`${id}.away`);
    const yaml = config(
      id,
      `
  - name: away
    filters: ["${id}/away"]
    destinations: [{ type: kafka, topic: ${id}.away }]
`,
    );
    const first = await startWorker(yaml);
    await first.dispose();
    await mqtt.publisher().publishAsync(`${id}/away`, 'queued', { qos: 1 });
    const second = await startWorker(yaml);
    try {
      const [record] = await kafka.consume(`${id}.away`, { count: 1 });
      expect(record.value?.toString()).toBe('queued');
    } finally {
      await second.dispose();
    }
  });

  it('announces itself on the status topic with a last will, and skips retained replays when asked', async () => {
    const id = uniqueId();
    await topics(`${id}.skip`, `${id}.keep`);
    await mqtt.publisher().publishAsync(`${id}/ret/a`, 'old-retained', { qos: 1, retain: true });
    await mqtt.publisher().publishAsync(`${id}/keep/a`, 'kept-retained', { qos: 1, retain: true });
    const watcher = await mqttClient(mqtt.broker().url, { clientId: uniqueId('watch') });
    const statuses: string[] = [];
    watcher.on('message', (_t, payload) => statuses.push(JSON.parse(payload.toString()).status));
    await watcher.subscribeAsync(`${id}/status/#`, { qos: 1 });
    const bridge = await startWorker(
      config(
        id,
        `
  - name: skip
    filters: ["${id}/ret/#"]
    retained: skip
    destinations: [{ type: kafka, topic: ${id}.skip }]
  - name: keep
    filters: ["${id}/keep/#"]
    destinations: [{ type: kafka, topic: ${id}.keep }]
`,
        { status: { topic: `${id}/status/{clientId}` } },
      ),
    );
    try {
      await waitFor(() => statuses.includes('online'), 5_000, 'online status');
      await mqtt.publisher().publishAsync(`${id}/ret/a`, 'live', { qos: 1 });
      const [skipRecord] = await kafka.consume(`${id}.skip`, { count: 1, settleMs: 1_000 });
      expect(skipRecord.value?.toString()).toBe('live');
      expect(await recordCount(kafka.brokers, `${id}.skip`)).toBe(1);
      const [kept] = await kafka.consume(`${id}.keep`, { count: 1 });
      expect(kept.value?.toString()).toBe('kept-retained');
      expect(String(kept.headers['mqtt.retain'])).toBe('true');
    } finally {
      await bridge.dispose();
      await waitFor(() => statuses.at(-1) === 'offline', 5_000, 'offline status');
      await mqtt.publisher().publishAsync(`${id}/ret/a`, '', { qos: 1, retain: true });
      await mqtt.publisher().publishAsync(`${id}/keep/a`, '', { qos: 1, retain: true });
      await watcher.endAsync();
    }
  });
});
