import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IHeaders, Producer } from 'kafkajs';
import { MqttClient } from 'mqtt';
import { createPublisherCrypto, KeyEntry, PublisherCrypto } from '@app/crypto';
import { MosquittoBroker } from '../harness/mosquitto.broker';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, startWorker, uniqueId, waitFor } from './support/bridge.fixture';
import { configYaml } from './support/config.builder';
import { writeTestKeys } from './support/key.fixture';

jest.setTimeout(120_000);

interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  props: Record<string, unknown>;
}

describe('Kafka -> MQTT through real Kafka and Mosquitto', () => {
  const kafka = sharedKafka();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-k2m-e2e-'));
  const keysFile = join(dir, 'keys.json');
  let mosquitto: MosquittoBroker;
  let producer: Producer;
  let pc: PublisherCrypto;
  let devices: KeyEntry;
  const clients: MqttClient[] = [];
  const topics: string[] = [];

  beforeAll(async () => {
    pc = await createPublisherCrypto();
    ({ devices } = (await writeTestKeys(dir, { devices: 'symmetric' })).entries);
    // A broker of this file's own: the tests stop and restart it.
    mosquitto = await MosquittoBroker.start();
    producer = kafka.kafka().producer();
    await producer.connect();
  });

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true).catch(() => undefined);
    await producer?.disconnect();
    if (topics.length > 0) {
      const admin = kafka.kafka().admin();
      await admin.connect();
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    }
    await mosquitto?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function topic(name: string, partitions = 1): Promise<string> {
    await kafka.createTopic(name, partitions);
    topics.push(name);
    return name;
  }

  /** A device-side subscriber with a persistent session, so it gets what was queued while the broker restarted. */
  async function subscriber(filter: string): Promise<Received[]> {
    const received: Received[] = [];
    const client = await mqttClient(mosquitto.url, { clientId: uniqueId('sub'), clean: false, properties: { sessionExpiryInterval: 600 } });
    clients.push(client);
    client.on('message', (t, payload, packet) =>
      received.push({
        topic: t,
        payload,
        qos: packet.qos,
        retain: packet.retain,
        props: { ...(packet.properties?.userProperties ?? {}), contentType: packet.properties?.contentType },
      }),
    );
    await client.subscribeAsync(filter, { qos: 1 });
    return received;
  }

  /** The group's committed offsets summed over partitions (-1 when Kafka does not answer within 5 s, so waits stay bounded). */
  async function committed(groupId: string, name: string): Promise<number> {
    const admin = kafka.kafka().admin();
    const read = (async () => {
      await admin.connect();
      const [entry] = await admin.fetchOffsets({ groupId, topics: [name] });
      return entry.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 5_000)));
    try {
      return await Promise.race([read, late]);
    } finally {
      clearTimeout(timer);
      await admin.disconnect().catch(() => undefined);
    }
  }

  function config(id: string, rule: string, extra: Record<string, unknown> = {}): string {
    return configYaml(
      {
        mqtt: { url: mosquitto.url, clientId: id },
        kafka: { brokers: kafka.brokers },
        keys: { file: keysFile },
        deadLetter: { topic: `${id}.dlq` },
        ...extra,
      },
      { fromKafka: rule },
    );
  }

  async function send(name: string, messages: Array<{ key?: string; value: string; headers?: IHeaders }>): Promise<void> {
    await producer.send({ topic: name, messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers })) });
  }

  it('maps key, headers and payload fields to MQTT topics with QoS, retain and properties; dead-letters what cannot be addressed and commits past it', async () => {
    const id = uniqueId();
    const source = await topic(`${id}.cmd`);
    await topic(`${id}.dlq`);
    const received = await subscriber(`${id}/#`);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: cmd
    kafka: { groupId: ${id}.g, topics: [${source}] }
    mqtt: { topic: "${id}/{header.tenant}/{key}/{payload.op}", qos: 1, retain: true }
`,
      ),
    );
    try {
      await send(source, [
        { key: 'dev-1', value: '{"op":"reboot"}', headers: { tenant: 'acme', 'mqtt.content-type': 'application/json', 'mqtt.user.trace': 't-1' } },
        { key: 'dev-2', value: '{"op":"update","v":2}', headers: { tenant: 'acme' } },
        // No "op" field: the topic cannot be rendered, so it is dead-lettered.
        { key: 'dev-3', value: '{"nop":1}', headers: { tenant: 'acme' } },
        // A key that would reach into another device's topics.
        { key: 'dev-4/x', value: '{"op":"reboot"}', headers: { tenant: 'acme' } },
        { key: 'dev-5', value: '{"op":"ping"}', headers: { tenant: 'globex' } },
      ]);
      await waitFor(() => received.length === 3, 20_000, 'three commands on MQTT');
      expect(received.map((m) => [m.topic, m.payload.toString()])).toEqual([
        [`${id}/acme/dev-1/reboot`, '{"op":"reboot"}'],
        [`${id}/acme/dev-2/update`, '{"op":"update","v":2}'],
        [`${id}/globex/dev-5/ping`, '{"op":"ping"}'],
      ]);
      expect(received[0]).toMatchObject({ qos: 1, props: { trace: 't-1', contentType: 'application/json' } });

      const letters = await kafka.consume(`${id}.dlq`, { count: 2, settleMs: 500 });
      expect(letters).toHaveLength(2);
      const headers = letters.map((l) => Object.fromEntries(Object.entries(l.headers).map(([k, v]) => [k, String(v)])));
      expect(headers.map((h) => [h['bridge.dlq.reason'], h['kafka.key'], h['kafka.offset'], h['kafka.topic'], h['bridge.rule']])).toEqual([
        ['template', 'dev-3', '2', source, 'cmd'],
        ['template', 'dev-4/x', '3', source, 'cmd'],
      ]);
      expect(headers[0]['bridge.dlq.message']).toContain('needs {payload.op} but the JSON value has no string, number or boolean there');
      expect(letters[0].value!.toString()).toBe('{"nop":1}');

      // Everything handled, dead letters included: the group's offset is past all five.
      await waitFor(async () => (await committed(`${id}.g`, source)) === 5, 10_000, 'offsets committed past every record');
      expect(bridge.worker.stats.snapshot().cmd).toMatchObject({ received: 5, delivered: 3, deadLettered: 2, reasons: { template: 2 } });

      // Retained: a device subscribing later still gets its last command.
      const late = await subscriber(`${id}/acme/dev-1/#`);
      await waitFor(() => late.length === 1, 10_000, 'the retained command');
      expect(late[0]).toMatchObject({ retain: true });
    } finally {
      await bridge.dispose();
    }
  });

  it('commits only what Mosquitto confirmed: nothing advances while it is down, everything arrives after, and a restarted group re-delivers the rest', async () => {
    const id = uniqueId();
    const source = await topic(`${id}.cmd`, 2);
    const groupId = `${id}.g`;
    const received = await subscriber(`${id}/#`);
    const seen = () => new Set(received.map((m) => Number(m.payload.toString())));
    const rule = `
  - name: stream
    kafka: { groupId: ${groupId}, topics: [${source}], maxInFlight: 20, commitIntervalMs: 50 }
    mqtt: { topic: "${id}/{key}", qos: 1, retry: { initialMs: 100, maxMs: 500 } }
`;
    let seq = 0;
    const produce = async (count: number) => {
      const batch = Array.from({ length: count }, () => ({ key: `d${seq % 4}`, value: String(seq++) }));
      await send(source, batch);
    };

    let bridge = await startWorker(config(id, rule));
    try {
      await produce(40);
      await waitFor(() => seen().size === 40, 20_000, 'the first 40 records on MQTT');
      await waitFor(async () => (await committed(groupId, source)) === 40, 10_000, 'offsets at 40');

      // Mosquitto down: records are taken but not confirmed, so no offset moves.
      await mosquitto.stop();
      await produce(30);
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await committed(groupId, source)).toBe(40);
      expect(bridge.worker.inFlight).toBe(20);

      // Back up: the running worker delivers all of it and commits.
      await mosquitto.restart();
      await waitFor(() => seen().size === 70, 30_000, 'the 30 records held during the outage');
      await waitFor(async () => (await committed(groupId, source)) === 70, 10_000, 'offsets at 70');

      // Down again, and the worker stops meanwhile: the stop is bounded and commits nothing unconfirmed.
      await mosquitto.stop();
      await produce(30);
      await waitFor(() => bridge.worker.inFlight === 20, 10_000, 'records taken during the second outage');
      const stopping = Date.now();
      await bridge.dispose();
      const stopMs = Date.now() - stopping;
      expect(stopMs).toBeLessThan(20_000);
      expect(await committed(groupId, source)).toBe(70);

      // A new member of the same group reads again from the committed offsets: nothing is lost.
      await mosquitto.restart();
      bridge = await startWorker(config(id, rule));
      await waitFor(() => seen().size === 100, 30_000, 'all 100 records after the restart');
      await waitFor(async () => (await committed(groupId, source)) === 100, 10_000, 'offsets at 100');
      const lost = Array.from({ length: 100 }, (_, i) => i).filter((n) => !seen().has(n));
      expect(lost).toEqual([]);
      // Per key (one partition each), first appearances keep the produced order.
      for (const key of ['d0', 'd1', 'd2', 'd3']) {
        const values = received.filter((m) => m.topic === `${id}/${key}`).map((m) => Number(m.payload.toString()));
        const first = values.filter((v, i) => values.indexOf(v) === i);
        expect(first).toEqual([...first].sort((a, b) => a - b));
      }
      process.stdout.write(
        `kafka-to-mqtt outage: 100 produced, ${received.length} received (${received.length - 100} duplicates), 0 lost, stop took ${stopMs} ms\n`,
      );
    } finally {
      if (!mosquitto.running) await mosquitto.restart();
      await bridge.dispose();
    }
  });

  it('encrypts for devices (the device opens the envelope, bound to its topic, with its key), decrypts envelopes bound to the Kafka topic, dead-letters what does not open', async () => {
    const id = uniqueId();
    const source = await topic(`${id}.cmd`);
    const sealedSource = await topic(`${id}.sealed`);
    await topic(`${id}.dlq`);
    const received = await subscriber(`${id}/#`);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: sealed
    kafka: { groupId: ${id}.g, topics: [${source}] }
    mqtt: { topic: "${id}/{key}/cmd" }
    transform: { mode: encrypt, destinationKey: devices }
  - name: opened
    kafka: { groupId: ${id}.g2, topics: [${sealedSource}] }
    mqtt: { topic: "${id}/plain/{key}" }
    transform: { mode: decrypt, sourceKey: devices }
`,
      ),
    );
    try {
      await send(source, [{ key: 'dev-9', value: 'open the valve' }]);
      await waitFor(() => received.length === 1, 20_000, 'the sealed command');
      const [message] = received;
      expect(message.topic).toBe(`${id}/dev-9/cmd`);
      expect(message.payload.toString()).not.toContain('open the valve');
      const v = devices.versions[0];
      const holder = [{ name: devices.name, version: v.version, secret: v.secret }];
      const opened = pc.open(message.payload, holder, message.topic, { requireTopicBinding: true });
      expect(Buffer.from(opened.plaintext).toString()).toBe('open the valve');
      // Bound to the device's topic: the same envelope replayed on another device's topic does not open.
      expect(() => pc.open(message.payload, holder, `${id}/dev-8/cmd`, { requireTopicBinding: true })).toThrow();

      // An envelope sealed for (and bound to) the Kafka topic is opened; a value that is no envelope is dead-lettered.
      const envelope = Buffer.from(pc.sealSymmetric(new TextEncoder().encode('21.5'), v.secret, devices.name, v.version, sealedSource));
      await producer.send({
        topic: sealedSource,
        messages: [
          { key: 'a', value: envelope },
          { key: 'b', value: 'not an envelope' },
        ],
      });
      await waitFor(() => received.length === 2, 20_000, 'the decrypted record');
      expect([received[1].topic, received[1].payload.toString()]).toEqual([`${id}/plain/a`, '21.5']);
      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1 });
      expect(String(letter.headers['bridge.dlq.reason'])).toBe('envelope-version');
      expect(String(letter.headers['bridge.dlq.destination'])).toBe('transform');
      expect(letter.value!.toString()).toBe('not an envelope');
      await waitFor(async () => (await committed(`${id}.g2`, sealedSource)) === 2, 10_000, 'offsets committed past the dead letter');
    } finally {
      await bridge.dispose();
    }
  });

  it('processes records before sealing them for devices: filters, maps key, headers and fields, routes by the result, dead-letters what fails', async () => {
    const id = uniqueId();
    const source = await topic(`${id}.cmd`);
    await topic(`${id}.dlq`);
    const received = await subscriber(`${id}/#`);
    const bridge = await startWorker(
      config(
        id,
        `
  - name: commands
    kafka: { groupId: ${id}.g, topics: [${source}] }
    mqtt: { topic: "${id}/{payload.device}/cmd" }
    transform: { mode: encrypt, destinationKey: devices }
    process:
      steps:
        - filter: payload.op != "noop"
        - map: { op: payload.op, "args.level": payload.level, by: 'headers["user"]', ref: key, device: payload.device }
`,
      ),
    );
    try {
      await send(source, [
        { key: 'r-1', value: JSON.stringify({ device: 'lamp-1', op: 'dim', level: 3 }), headers: { user: 'ops' } },
        { key: 'r-2', value: JSON.stringify({ device: 'lamp-1', op: 'noop' }), headers: { user: 'ops' } },
        { key: 'r-3', value: JSON.stringify({ device: 'lamp-2', op: 'dim' }), headers: { user: 'ops' } },
      ]);
      const [letter] = await kafka.consume(`${id}.dlq`, { count: 1 });
      expect([String(letter.headers['bridge.dlq.reason']), String(letter.headers['bridge.dlq.message'])]).toEqual([
        'transform-failed',
        'steps[1].map.args.level: no such key at column 9 of the expression',
      ]);
      expect(String(letter.headers['kafka.key'])).toBe('r-3');
      await waitFor(async () => (await committed(`${id}.g`, source)) === 3, 20_000, 'all three offsets committed');
      expect(received).toHaveLength(1);
      const [message] = received;
      expect(message.topic).toBe(`${id}/lamp-1/cmd`);
      const v = devices.versions[0];
      const opened = pc.open(message.payload, [{ name: devices.name, version: v.version, secret: v.secret }], message.topic, { requireTopicBinding: true });
      expect(JSON.parse(Buffer.from(opened.plaintext).toString())).toEqual({ op: 'dim', args: { level: 3 }, by: 'ops', ref: 'r-1', device: 'lamp-1' });
      expect(bridge.worker.stats.snapshot().commands).toMatchObject({ received: 3, delivered: 1, filtered: 1, deadLettered: 1 });
    } finally {
      await bridge.dispose();
    }
  });

  it('loses nothing while the group rebalances as members join and leave', async () => {
    const id = uniqueId();
    const source = await topic(`${id}.cmd`, 4);
    const groupId = `${id}.g`;
    const received = await subscriber(`${id}/#`);
    const seen = () => new Set(received.map((m) => Number(m.payload.toString())));
    const rule = `
  - name: shared
    kafka: { groupId: ${groupId}, topics: [${source}], maxInFlight: 10, commitIntervalMs: 50 }
    mqtt: { topic: "${id}/{key}", qos: 1 }
`;
    let seq = 0;
    const produce = async (count: number) =>
      send(
        source,
        Array.from({ length: count }, () => ({ key: `d${seq % 8}`, value: String(seq++) })),
      );
    const a = await startWorker(config(`${id}a`, rule));
    let b: Awaited<ReturnType<typeof startWorker>> | undefined;
    let aStopped = false;
    try {
      await produce(100);
      // A second member joins while records flow, then the first leaves.
      const joining = startWorker(config(`${id}b`, rule));
      await produce(100);
      b = await joining;
      await produce(100);
      await waitFor(() => seen().size >= 250, 60_000, 'most records before the first member leaves');
      await a.dispose();
      aStopped = true;
      await produce(100);
      await waitFor(() => seen().size === 400, 60_000, 'all 400 records');
      await waitFor(async () => (await committed(groupId, source)) === 400, 20_000, 'offsets at 400');
      const both = { a: a.worker.stats.snapshot().shared?.delivered ?? 0, b: b.worker.stats.snapshot().shared?.delivered ?? 0 };
      expect(both.b).toBeGreaterThan(0);
      process.stdout.write(
        `kafka-to-mqtt rebalance: 400 produced, ${received.length} received (${received.length - 400} duplicates), 0 lost, delivered by a ${both.a}, by b ${both.b}\n`,
      );
    } finally {
      if (!aStopped) await a.dispose();
      await b?.dispose();
    }
  });

  it('rides out a Kafka restart: not ready meanwhile, then everything arrives and is committed', async () => {
    const id = uniqueId();
    const source = await topic(`${id}.cmd`, 2);
    const groupId = `${id}.g`;
    const received = await subscriber(`${id}/#`);
    const seen = () => new Set(received.map((m) => Number(m.payload.toString())));
    const bridge = await startWorker(
      config(
        id,
        `
  - name: through
    kafka: { groupId: ${groupId}, topics: [${source}], commitIntervalMs: 50 }
    mqtt: { topic: "${id}/{key}" }
`,
      ),
    );
    try {
      await send(
        source,
        Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, value: String(i) })),
      );
      await waitFor(() => seen().size === 20, 20_000, 'the first 20 records');
      await kafka.stop();
      await waitFor(async () => !(await bridge.worker.readiness()).fromKafka, 20_000, 'the rule to report not ready');
      await kafka.restart();
      // The producer reconnects by itself; the consumer is restarted by kafkajs and rejoins its group.
      await send(
        source,
        Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, value: String(20 + i) })),
      );
      await waitFor(() => seen().size === 40, 90_000, 'the 20 records produced after the restart');
      await waitFor(async () => (await committed(groupId, source)) === 40, 20_000, 'offsets at 40');
      await waitFor(async () => (await bridge.worker.readiness()).fromKafka, 20_000, 'the rule to report ready again');
    } finally {
      if (!kafka.running) await kafka.restart();
      await bridge.dispose();
    }
  });
});
