import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { encode as cborEncode } from 'cbor-x';
import {
  compileAvroSchema,
  compileProtobufSchema,
  createSchemaRegistryClient,
  decodeConfluentFrame,
  encodeFramed,
  RegistryUnavailableError,
  SchemaRegistryClient,
  SchemaUnavailableError,
  subjectName,
} from '@app/registry';
import { decodePayload, Document, SchemaInvalidError } from '@app/transform';
import { readAvroWithJava, readProtobufWithJava, referenceDecoders } from '../harness/reference-decoders';
import { SchemaRegistryServer } from '../harness/schema-registry';
import { makeTestPki } from '../harness/test-pki';
import { AVRO_TELEMETRY, PROTO_TELEMETRY, telemetry, TELEMETRY_JSON } from '@app/registry/testing/schemas.fixture';

/*
 * @app/registry against a real Confluent-compatible registry (Apicurio Registry, started by the
 * harness), with what it writes read back by the reference libraries (Apache Avro for Java,
 * protobuf-java with protoc): registration, lookup by subject and id, the wire frame, the
 * registry's refusals, the registry going away and coming back, and TLS with a private CA.
 */

// The same document as a device would send it, JSON text and CBOR, decoded as the transform stage does.
const payloads: [string, Document][] = [
  ['JSON', decodePayload('json', Buffer.from(TELEMETRY_JSON))],
  ['CBOR', decodePayload('cbor', cborEncode(telemetry))],
];

jest.setTimeout(600_000);

describe('schema registry (Apicurio, Confluent API) with the reference decoders', () => {
  let server: SchemaRegistryServer;
  let registry: SchemaRegistryClient;

  beforeAll(async () => {
    // First run on a machine: builds the registry and fetches the Java decoders (minutes).
    [server] = await Promise.all([SchemaRegistryServer.start(), referenceDecoders()]);
    registry = createSchemaRegistryClient({ url: server.url, timeoutMs: 5000 });
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it.each(payloads)('writes %s telemetry as Avro that Apache Avro (Java) reads field for field', async (_kind, document) => {
    const subject = subjectName('topic', { topic: 'telemetry-avro', recordName: 'iot.v1.Telemetry' });
    const id = await registry.register(subject, { schemaType: 'AVRO', schema: AVRO_TELEMETRY, references: [] });
    // What a fresh bridge does: ask for the latest version, compile what the registry gives.
    const latest = await createSchemaRegistryClient({ url: server.url }).subjectVersion(subject, 'latest');
    expect(latest).toMatchObject({ id, subject, version: 1, schemaType: 'AVRO' });
    const codec = compileAvroSchema(latest.schema);

    const framed = encodeFramed(codec, latest.id, document);
    const read = await readAvroWithJava(latest.schema, framed);

    expect(read.schemaId).toBe(id);
    // Avro's JSON encoding: a union value names its branch.
    expect(read.record).toEqual({ ...telemetry, battery: { int: 87 } });
    expect(codec.decode(decodeConfluentFrame(framed, false).body)).toEqual(telemetry);
  });

  it.each(payloads)('writes %s telemetry as Protobuf that protobuf-java reads field for field', async (_kind, document) => {
    const subject = subjectName('record', { topic: 'telemetry-proto', recordName: 'iot.v1.Telemetry' });
    const id = await registry.register(subject, { schemaType: 'PROTOBUF', schema: PROTO_TELEMETRY, references: [] });
    const stored = await createSchemaRegistryClient({ url: server.url }).schemaById(id);
    expect(stored.schemaType).toBe('PROTOBUF');
    const codec = compileProtobufSchema(stored.schema, { messageName: 'iot.v1.Telemetry' });
    const withProtobufOnly = { ...(document as object), raw: new Uint8Array([1, 2, 3]), seen: { seconds: 1764250000, nanos: 5000000 } };

    const framed = encodeFramed(codec, id, withProtobufOnly);
    const read = await readProtobufWithJava(stored.schema, framed);

    expect(read).toMatchObject({ schemaId: id, messageIndexes: [1], type: 'iot.v1.Telemetry' });
    // protobuf-java's JSON mapping: 64-bit integers as strings, bytes as base64, timestamps as RFC 3339.
    expect(read.record).toEqual({ ...telemetry, ts: '1764250000123', raw: 'AQID', seen: '2025-11-27T13:26:40.005Z' });
    expect(decodeConfluentFrame(framed, true)).toMatchObject({ schemaId: id, messageIndexes: [1] });
  });

  it('writes the first message of a Protobuf schema with the single-0 index that protobuf-java reads', async () => {
    const schema = 'syntax = "proto3";\npackage iot.v1;\nmessage Ping { string device_id = 1; sint64 seq = 2; }\n';
    const id = await registry.register('ping-value', { schemaType: 'PROTOBUF', schema, references: [] });
    const framed = encodeFramed(compileProtobufSchema(schema), id, { device_id: 'th-1', seq: -5 });
    expect(framed[5]).toBe(0);
    await expect(readProtobufWithJava(schema, framed)).resolves.toEqual({
      schemaId: id,
      messageIndexes: [0],
      type: 'iot.v1.Ping',
      record: { device_id: 'th-1', seq: '-5' },
    });
  });

  it('refuses a document that does not fit before anything is written', () => {
    const codec = compileAvroSchema(AVRO_TELEMETRY);
    expect(() => codec.encode({ ...telemetry, readings: [{ k: 'rh', v: 'wet' }] })).toThrow(SchemaInvalidError);
  });

  it('reports what the registry refuses as schema-unavailable, never retried', async () => {
    const missing = await registry.subjectVersion('no-such-subject', 'latest').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(SchemaUnavailableError);
    expect(missing).toMatchObject({ code: 'schema-unavailable', retriable: false, status: 404 });
    await expect(registry.schemaById(999_999)).rejects.toMatchObject({ code: 'schema-unavailable', status: 404 });

    const subject = 'compat-value';
    const v1 = JSON.stringify({ type: 'record', name: 'C', fields: [{ name: 'a', type: 'int' }] });
    const incompatible = JSON.stringify({ type: 'record', name: 'C', fields: [{ name: 'b', type: 'int' }] });
    await registry.register(subject, { schemaType: 'AVRO', schema: v1, references: [] });
    const config = await fetch(`${server.url}/config/${subject}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    expect(config.status).toBe(200);
    await expect(registry.register(subject, { schemaType: 'AVRO', schema: incompatible, references: [] })).rejects.toMatchObject({
      code: 'schema-unavailable',
      status: 409,
    });
    await expect(registry.register('garbage-value', { schemaType: 'AVRO', schema: 'not a schema', references: [] })).rejects.toMatchObject({
      code: 'schema-unavailable',
      status: 422,
    });
  });

  it('gives a retriable error while the registry is stopped or frozen, and recovers when it is back', async () => {
    const id = await registry.register('outage-value', { schemaType: 'AVRO', schema: '"string"', references: [] });
    const fresh = () => createSchemaRegistryClient({ url: server.url, timeoutMs: 1000 });

    await server.stop();
    const down = await fresh()
      .schemaById(id)
      .catch((err: unknown) => err);
    expect(down).toBeInstanceOf(RegistryUnavailableError);
    expect(down).toMatchObject({ code: 'registry-unavailable', retriable: true, message: expect.stringContaining('ECONNREFUSED') });

    const client = fresh();
    await expect(client.schemaById(id)).rejects.toMatchObject({ retriable: true });
    const restarted = Date.now();
    await server.restart();
    // The same client, asked again: the failure was not cached, the schema and its id survived.
    await expect(client.schemaById(id)).resolves.toMatchObject({ id, schema: '"string"' });
    expect(Date.now() - restarted).toBeLessThan(60_000);

    await server.pause();
    try {
      await expect(fresh().schemaById(id)).rejects.toMatchObject({ code: 'registry-unavailable', message: expect.stringContaining('no answer in time') });
    } finally {
      await server.resume();
    }
    await expect(fresh().schemaById(id)).resolves.toMatchObject({ id });
  });

  it('talks to the registry over TLS trusting only the given CA', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-registry-tls-'));
    const pki = makeTestPki(dir, ['localhost', '127.0.0.1']);
    // TLS in front of the real registry, as a reverse proxy would put it.
    const sockets = new Set<net.Socket>();
    const proxy = tls.createServer({ key: fs.readFileSync(pki.serverKey), cert: fs.readFileSync(pki.serverCert) }, (socket) => {
      const upstream = net.connect(server.port, '127.0.0.1');
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      const close = () => (socket.destroy(), upstream.destroy());
      socket.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(proxy.address() as net.AddressInfo).port}${new URL(server.url).pathname}`;
    try {
      const id = await registry.register('tls-value', { schemaType: 'AVRO', schema: '"long"', references: [] });
      const trusting = createSchemaRegistryClient({ url, ca: fs.readFileSync(pki.ca) });
      await expect(trusting.schemaById(id)).resolves.toMatchObject({ id, schema: '"long"' });
      await expect(trusting.subjectVersion('tls-value', 'latest')).resolves.toMatchObject({ id });

      const foreign = createSchemaRegistryClient({ url, ca: fs.readFileSync(pki.foreignCa) });
      await expect(foreign.schemaById(id)).rejects.toMatchObject({ code: 'registry-unavailable' });
      await expect(createSchemaRegistryClient({ url }).schemaById(id)).rejects.toMatchObject({ code: 'registry-unavailable' });
    } finally {
      // The clients keep their connections alive: close them, or close() waits for them.
      const closed = new Promise<void>((resolve) => proxy.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
