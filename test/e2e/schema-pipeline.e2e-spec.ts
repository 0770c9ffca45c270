import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as cborEncode } from 'cbor-x';
import { Producer } from 'kafkajs';
import { MqttClient } from 'mqtt';
import { createPublisherCrypto, KeyEntry, PublisherCrypto } from '@app/crypto';
import { compileAvroSchema, compileProtobufSchema, createSchemaRegistryClient, encodeFramed, SchemaRegistryClient, subjectName } from '@app/registry';
import { ConsumedMessage, quietKafka } from '../harness/kafka-client';
import { readAvroWithJava, readProtobufWithJava, referenceDecoders } from '../harness/reference-decoders';
import { freePort } from '../harness/free-port';
import { SchemaRegistryServer } from '../harness/schema-registry';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, startWorker, testMqttBroker, TestMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';
import { ROOT, runBridge } from './support/bridge.process';
import { configYaml } from './support/config.builder';
import { holder, writeTestKeys } from './support/key.fixture';
import { AVRO_TELEMETRY, PROTO_TELEMETRY, telemetry } from '@app/registry/testing/schemas.fixture';

/*
 * Rules that write Avro and Protobuf: devices publish JSON or CBOR on real Mosquitto, the
 * bridge transforms and encodes against a real registry (Apicurio, Confluent API), and the
 * reference libraries (Apache Avro for Java, protobuf-java) read back what landed in Kafka.
 * Also: a document that does not fit is dead-lettered with its field path, the registry
 * stopped for 20 s loses nothing, and a fromKafka rule turns Avro records into JSON for MQTT.
 */

jest.setTimeout(600_000);

// Devices send the temperature as `temp`: a rename step makes the document fit the schemas.
const { temperature, ...rest } = telemetry;
const sent = { ...rest, temp: temperature };

describe('Avro and Protobuf rules through Mosquitto, Kafka and a schema registry', () => {
  const kafka = sharedKafka();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-schema-e2e-'));
  let server: SchemaRegistryServer;
  let registry: SchemaRegistryClient;
  let mosquitto: TestMqttBroker;
  let device: MqttClient;
  let pc: PublisherCrypto;
  let devices: KeyEntry;

  beforeAll(async () => {
    [server] = await Promise.all([SchemaRegistryServer.start(), referenceDecoders()]);
    pc = await createPublisherCrypto();
    ({ devices } = (await writeTestKeys(dir, { devices: 'symmetric' })).entries);
    registry = createSchemaRegistryClient({ url: server.url });
    writeFileSync(join(dir, 'telemetry.avsc'), AVRO_TELEMETRY);
    writeFileSync(join(dir, 'telemetry.proto'), PROTO_TELEMETRY);
    mosquitto = await testMqttBroker();
    device = await mqttClient(mosquitto.url, { clientId: uniqueId('dev') });
  });

  afterAll(async () => {
    await device?.endAsync();
    await mosquitto?.stop();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(id: string, lists: { rules?: string; fromKafka?: string }): string {
    return configYaml(
      {
        mqtt: { url: mosquitto.url, clientId: id },
        kafka: { brokers: kafka.brokers },
        deadLetter: { topic: `${id}.dlq` },
        keys: { file: join(dir, 'keys.json') },
        schemaRegistries: { main: { url: server.url, timeoutMs: 1000, retry: { initialMs: 200, maxMs: 1000 } } },
      },
      lists,
    );
  }

  /** One MQTT rule per input format, writing `output` to `<id>.<output>` with the schema section given. */
  function encodingRules(id: string, output: 'avro' | 'protobuf', schema: string, transform = 'passthrough'): string {
    const modes: Record<string, string> = { passthrough: '{ mode: passthrough }', decrypt: '{ mode: decrypt, sourceKey: devices }' };
    return (['json', 'cbor'] as const)
      .map(
        (input) => `
  - name: ${input}-${output}
    filters: ["${id}/${input}/{device}"]
    transform: ${modes[transform]}
    process:
      input: ${input}
      output: ${output}
      steps: [{ rename: { temp: temperature } }]
      schema: ${schema}
    destinations: [{ type: kafka, topic: ${id}.${output}, key: "{device}" }]`,
      )
      .join('\n');
  }

  const payloadAs = (input: 'json' | 'cbor', document: unknown): Buffer => (input === 'json' ? Buffer.from(JSON.stringify(document)) : cborEncode(document));

  /** The same document as JSON from th-1 and as CBOR from th-2; sealed for the bridge when `seal`. Gives what was sent, by device. */
  async function publishBoth(id: string, document: unknown, seal = false): Promise<Record<string, Buffer>> {
    const sent: Record<string, Buffer> = {};
    for (const [input, deviceId] of [
      ['json', 'th-1'],
      ['cbor', 'th-2'],
    ] as const) {
      const topic = `${id}/${input}/${deviceId}`;
      const d = holder(devices);
      const plain = payloadAs(input, document);
      sent[deviceId] = seal ? Buffer.from(pc.sealSymmetric(plain, d.secret, d.name, d.version, topic)) : plain;
      await device.publishAsync(topic, sent[deviceId], { qos: 1 });
    }
    return sent;
  }

  const byKey = (records: ConsumedMessage[]) => Object.fromEntries(records.map((r) => [String(r.key), r]));
  const byTopic = (records: ConsumedMessage[]) => Object.fromEntries(records.map((r) => [String(r.headers['mqtt.topic']), r]));

  it('writes JSON and CBOR telemetry as Avro registered under the topic subject, which Apache Avro (Java) reads field for field', async () => {
    const id = uniqueId();
    for (const t of ['avro', 'dlq']) await kafka.createTopic(`${id}.${t}`, 1);
    const bridge = await startWorker(
      config(id, { rules: encodingRules(id, 'avro', `{ registry: main, file: ${join(dir, 'telemetry.avsc')}, register: true }`) }),
    );
    try {
      await publishBoth(id, sent);
      const records = byKey(await kafka.consume(`${id}.avro`, { count: 2 }));
      const registered = await registry.subjectVersion(subjectName('topic', { topic: `${id}.avro`, recordName: 'iot.v1.Telemetry' }), 'latest');
      for (const key of ['th-1', 'th-2']) {
        const read = await readAvroWithJava(AVRO_TELEMETRY, records[key].value!);
        expect({ key, schemaId: read.schemaId, record: read.record }).toEqual({ key, schemaId: registered.id, record: { ...telemetry, battery: { int: 87 } } });
      }
      await waitFor(() => bridge.worker.inFlight === 0, 5_000, 'both messages to be acknowledged');
    } finally {
      await bridge.dispose();
    }
  });

  it('writes sealed telemetry as Protobuf after opening it, with the latest version an operator registered, which protobuf-java reads', async () => {
    const id = uniqueId();
    for (const t of ['protobuf', 'dlq']) await kafka.createTopic(`${id}.${t}`, 1);
    const subject = `${id}-telemetry`;
    const schemaId = await registry.register(subject, { schemaType: 'PROTOBUF', schema: PROTO_TELEMETRY, references: [] });
    const schema = `{ registry: main, subject: ${subject}, version: latest, message: iot.v1.Telemetry }`;
    const bridge = await startWorker(config(id, { rules: encodingRules(id, 'protobuf', schema, 'decrypt') }));
    try {
      await publishBoth(id, sent, true);
      const records = byKey(await kafka.consume(`${id}.protobuf`, { count: 2 }));
      for (const key of ['th-1', 'th-2']) {
        const read = await readProtobufWithJava(PROTO_TELEMETRY, records[key].value!);
        // protobuf-java's JSON mapping writes 64-bit integers as strings.
        expect({ key, ...read }).toEqual({ key, schemaId, messageIndexes: [1], type: 'iot.v1.Telemetry', record: { ...telemetry, ts: String(telemetry.ts) } });
      }
    } finally {
      await bridge.dispose();
    }
  });

  it('dead-letters a document that does not fit the schema with the field path, and the original bytes', async () => {
    const id = uniqueId();
    for (const t of ['avro', 'dlq']) await kafka.createTopic(`${id}.${t}`, 1);
    const bridge = await startWorker(
      config(id, { rules: encodingRules(id, 'avro', `{ registry: main, file: ${join(dir, 'telemetry.avsc')}, register: true }`) }),
    );
    try {
      const wrongType = payloadAs('json', { ...sent, temp: 'warm' });
      const undeclared = payloadAs('cbor', { ...sent, firmware: '1.2.3' });
      await device.publishAsync(`${id}/json/th-1`, wrongType, { qos: 1 });
      await device.publishAsync(`${id}/cbor/th-2`, undeclared, { qos: 1 });
      const letters = byTopic(await kafka.consume(`${id}.dlq`, { count: 2 }));
      const expected: Array<[string, Buffer, string]> = [
        [`${id}/json/th-1`, wrongType, 'payload /temperature fails "type" at avro double'],
        [`${id}/cbor/th-2`, undeclared, 'payload /firmware fails "undeclared" at avro record iot.v1.Telemetry'],
      ];
      for (const [topic, bytes, message] of expected) {
        const letter = letters[topic];
        expect({ topic, reason: String(letter.headers['bridge.dlq.reason']), message: String(letter.headers['bridge.dlq.message']) }).toEqual({
          topic,
          reason: 'schema-invalid',
          message,
        });
        expect(letter.value!.equals(bytes)).toBe(true);
      }
      expect(await recordCount(kafka.brokers, `${id}.avro`)).toBe(0);
    } finally {
      await bridge.dispose();
    }
  });

  it('loses nothing while the registry is stopped for 20 s: messages wait unacknowledged, then land with the registered id', async () => {
    const id = uniqueId();
    for (const t of ['avro', 'dlq']) await kafka.createTopic(`${id}.${t}`, 1);
    const bridge = await startWorker(
      config(id, { rules: encodingRules(id, 'avro', `{ registry: main, file: ${join(dir, 'telemetry.avsc')}, register: true }`) }),
    );
    try {
      await server.stop();
      const count = 10;
      for (let i = 0; i < count; i++) {
        await device.publishAsync(`${id}/json/d-${i}`, payloadAs('json', { ...sent, ts: i }), { qos: 1 });
      }
      await waitFor(() => bridge.worker.inFlight === count, 10_000, 'every message to be taken');
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      expect(bridge.worker.inFlight).toBe(count);
      // One request retried for the subject they all wait on, not one per message.
      const retries = await bridge.worker.stats.registry.getSingleMetricAsString('bridge_schema_registry_retries_total');
      const retried = Number(/bridge_schema_registry_retries_total\{registry="main"\} (\d+)/.exec(retries)?.[1]);
      expect(retried).toBeGreaterThan(3);
      expect(retried).toBeLessThan(60);
      expect(await recordCount(kafka.brokers, `${id}.avro`)).toBe(0);
      expect(await recordCount(kafka.brokers, `${id}.dlq`)).toBe(0);

      await server.restart();
      const records = await kafka.consume(`${id}.avro`, { count, timeoutMs: 60_000 });
      const subjectId = (await registry.subjectVersion(`${id}.avro-value`, 'latest')).id;
      const codec = compileAvroSchema(AVRO_TELEMETRY);
      expect(records.map((r) => String(r.key)).sort()).toEqual(Array.from({ length: count }, (_, i) => `d-${i}`).sort());
      for (const record of records) {
        expect(record.value!.readUInt32BE(1)).toBe(subjectId);
        expect(codec.decode(record.value!.subarray(5))).toEqual({ ...telemetry, ts: Number(String(record.key).slice(2)) });
      }
      await waitFor(() => bridge.worker.inFlight === 0, 10_000, 'every message to be acknowledged');
      expect(await recordCount(kafka.brokers, `${id}.dlq`)).toBe(0);
    } finally {
      if (!server.running) await server.restart();
      await bridge.dispose();
    }
  });

  it('decodes Avro and Protobuf records from Kafka into JSON MQTT payloads (fromKafka); bytes that are not a frame and unknown ids are dead-lettered', async () => {
    const id = uniqueId();
    const source = `${id}.cmd`;
    const protoSource = `${id}.cmd-proto`;
    for (const t of [source, protoSource, `${id}.dlq`]) await kafka.createTopic(t, 1);
    const schemaId = await registry.register(`${source}-value`, { schemaType: 'AVRO', schema: AVRO_TELEMETRY, references: [] });
    const framed = encodeFramed(compileAvroSchema(AVRO_TELEMETRY), schemaId, telemetry);
    // What Confluent's Protobuf serialiser writes for the schema's second message: index path [1].
    const protoId = await registry.register(`${protoSource}-value`, { schemaType: 'PROTOBUF', schema: PROTO_TELEMETRY, references: [] });
    const protoFramed = encodeFramed(compileProtobufSchema(PROTO_TELEMETRY, { messageName: 'iot.v1.Telemetry' }), protoId, telemetry);
    const received: Array<{ topic: string; payload: string }> = [];
    const subscriber = await mqttClient(mosquitto.url, { clientId: uniqueId('sub') });
    subscriber.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await subscriber.subscribeAsync(`${id}/#`, { qos: 1 });
    const bridge = await startWorker(
      config(id, {
        fromKafka: `
  - name: cmd
    kafka: { groupId: ${id}.g, topics: [${source}] }
    mqtt: { topic: "${id}/cmd/{key}/{payload.status}" }
    process:
      input: avro
      steps: [{ enrich: { site: 'headers.site' } }]
      schema: { registry: main }
  - name: cmd-proto
    kafka: { groupId: ${id}.gp, topics: [${protoSource}] }
    mqtt: { topic: "${id}/cmd-proto/{key}" }
    process: { input: protobuf, schema: { registry: main } }
`,
      }),
    );
    const producer: Producer = quietKafka(kafka.brokers).producer();
    await producer.connect();
    try {
      const unknownId = encodeFramed(compileAvroSchema(AVRO_TELEMETRY), 999_999, telemetry);
      await producer.send({
        topic: source,
        messages: [
          { key: 'dev-1', value: framed, headers: { site: 'lyon' } },
          { key: 'dev-2', value: Buffer.from('{"not":"avro"}'), headers: { site: 'lyon' } },
          { key: 'dev-3', value: unknownId, headers: { site: 'lyon' } },
        ],
      });
      await producer.send({ topic: protoSource, messages: [{ key: 'dev-4', value: protoFramed }] });
      await waitFor(() => received.length === 2, 30_000, 'the decoded records on MQTT');
      const byTopicName = Object.fromEntries(received.map((r) => [r.topic, JSON.parse(r.payload) as unknown]));
      expect(byTopicName[`${id}/cmd/dev-1/OK`]).toEqual({ ...telemetry, site: 'lyon' });
      // protobufjs fills the fields the record left out with their defaults (bytes as base64, an unset message as null).
      expect(byTopicName[`${id}/cmd-proto/dev-4`]).toEqual({ ...telemetry, raw: '', seen: null });
      const letters = await kafka.consume(`${id}.dlq`, { count: 2 });
      const reasons = Object.fromEntries(
        letters.map((l) => [String(l.headers['kafka.key']), [String(l.headers['bridge.dlq.reason']), String(l.headers['bridge.dlq.message'])]]),
      );
      expect(reasons).toEqual({
        'dev-2': ['decode-failed', 'payload is not in the Confluent wire format: magic byte 123, expected 0'],
        'dev-3': ['schema-unavailable', expect.stringContaining('answered 404 to schema id 999999')],
      });
    } finally {
      await producer.disconnect();
      await subscriber.endAsync();
      await bridge.dispose();
    }
  });

  it('runs the shipped example cases with bridge test against the registry, comparing Avro outputs as documents', async () => {
    const example = (name: string) => join(ROOT, 'config', name);
    const args = ['test', example('schemas.example.yaml'), example('schemas.example.cases.yaml')];
    const run = runBridge(args, { ...process.env, SCHEMA_REGISTRY_URL: server.url });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^2 passed, 0 failed$/m);
    expect(run.status).toBe(0);

    // No registry there: each case shows why instead of waiting (the schema comes before the fit).
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = runBridge(args, { ...process.env, SCHEMA_REGISTRY_URL: closed });
    expect(unreachable.stdout).toContain('dead letter: rule telemetry at transform: registry-unavailable');
    expect(unreachable.stdout).toMatch(/^0 passed, 2 failed$/m);
    expect(unreachable.status).toBe(1);
  });
});
