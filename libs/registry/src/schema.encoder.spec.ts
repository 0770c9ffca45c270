import { SchemaInvalidError } from '@app/transform';
import { compileAvroSchema } from './avro.codec';
import { decodeConfluentFrame } from './confluent-wire';
import { RegistryUnavailableError, SchemaUnavailableError } from './registry.errors';
import { planRuleSchema, RuleSchemaPlan } from './rule-schema.plan';
import { ruleSchemaSchema } from './rule-schema.schema';
import { RegistryHandle } from './schema-registries';
import { SchemaRegistryClient, SubjectVersion } from './schema-registry.client';
import { SchemaEncoder } from './schema.encoder';
import { READING_AVSC, READING_PROTO } from './testing/schemas.fixture';

type EncodePlan = Extract<RuleSchemaPlan, { direction: 'encode' }>;

const FILES: Record<string, string> = { 'reading.avsc': READING_AVSC, 'reading.proto': READING_PROTO };
const reading = { device: 'th-1', t: 21.5 };

function encodePlan(schema: object, format: 'avro' | 'protobuf' = 'avro'): EncodePlan {
  const { plan, problems } = planRuleSchema({ input: 'json', output: format, schema: ruleSchemaSchema.parse(schema) }, ['main'], (file) => FILES[file]);
  expect(problems).toEqual([]);
  return plan as EncodePlan;
}

/** A registry handle over a hand-written client; `retrying` asks up to 3 times while unavailable and records what waited. */
function fakeRegistry() {
  const client = { register: jest.fn(), lookup: jest.fn(), subjectVersion: jest.fn() };
  const waits: string[] = [];
  const handle: RegistryHandle = {
    name: 'main',
    client: client as unknown as SchemaRegistryClient,
    async retrying<T>(what: string, ask: () => Promise<T>): Promise<T> {
      waits.push(what);
      for (let attempt = 1; ; attempt++) {
        try {
          return await ask();
        } catch (error) {
          if (!(error instanceof RegistryUnavailableError) || attempt === 3) throw error;
        }
      }
    },
  };
  return { client, handle, waits };
}

const version = (over: Partial<SubjectVersion> = {}): SubjectVersion => ({
  subject: 'orders-value',
  version: 2,
  id: 11,
  schemaType: 'AVRO',
  schema: READING_AVSC,
  references: [],
  ...over,
});

describe('SchemaEncoder', () => {
  afterEach(() => jest.restoreAllMocks());

  it('without a registry writes the bare body, the same for every address', async () => {
    const plan = encodePlan({ file: 'reading.avsc' });
    const encoder = new SchemaEncoder(plan);
    const resolved = await encoder.resolve('orders');
    expect(resolved.id).toBeUndefined();
    expect(encoder.byAddress).toBe(false);
    expect(encoder.encode(resolved, reading)).toEqual(plan.codec!.encode(reading));
    expect(() => new SchemaEncoder({ ...plan, codec: undefined })).toThrow(TypeError);
  });

  it.each([
    [{}, 'orders-value', true],
    [{ subjectStrategy: 'record' }, 'iot.v1.Reading', false],
    [{ subjectStrategy: 'topic-record' }, 'orders-iot.v1.Reading', true],
    [{ subject: 'fixed', subjectStrategy: 'topic-record' }, 'fixed', false],
  ])('looks the file up under the subject %j names for address orders: %s', async (options, subject, byAddress) => {
    const { client, handle, waits } = fakeRegistry();
    client.lookup.mockResolvedValue(7);
    const encoder = new SchemaEncoder(encodePlan({ registry: 'main', file: 'reading.avsc', ...options }), handle);
    expect(encoder.byAddress).toBe(byAddress);
    await expect(encoder.resolve('orders')).resolves.toMatchObject({ id: 7 });
    expect(client.lookup).toHaveBeenCalledWith(subject, { schemaType: 'AVRO', schema: READING_AVSC, references: [] });
    expect(client.register).not.toHaveBeenCalled();
    expect(waits).toEqual([`looking up the schema of ${subject}`]);
  });

  it('registers the file instead when asked to', async () => {
    const { client, handle, waits } = fakeRegistry();
    client.register.mockResolvedValue(8);
    const encoder = new SchemaEncoder(encodePlan({ registry: 'main', file: 'reading.proto', register: true }, 'protobuf'), handle);
    await expect(encoder.resolve('orders')).resolves.toMatchObject({ id: 8 });
    expect(client.register).toHaveBeenCalledWith('orders-value', { schemaType: 'PROTOBUF', schema: READING_PROTO, references: [] });
    expect(client.lookup).not.toHaveBeenCalled();
    expect(waits).toEqual(['registering the schema of orders-value']);
  });

  it('shares one registry call among concurrent resolves of a subject, and asks per subject', async () => {
    const { client, handle } = fakeRegistry();
    let answer!: (id: number) => void;
    client.lookup.mockReturnValueOnce(new Promise<number>((resolve) => (answer = resolve))).mockResolvedValueOnce(12);
    const encoder = new SchemaEncoder(encodePlan({ registry: 'main', file: 'reading.avsc' }), handle);
    const first = encoder.resolve('orders');
    const second = encoder.resolve('orders');
    const other = encoder.resolve('alerts');
    answer(9);
    const [a, b, c] = await Promise.all([first, second, other]);
    expect(a).toBe(b);
    expect(a.id).toBe(9);
    expect(c.id).toBe(12);
    expect(client.lookup.mock.calls.map(([subject]) => subject as string)).toEqual(['orders-value', 'alerts-value']);
  });

  it('does not keep a failure: the next resolve asks again', async () => {
    const { client, handle } = fakeRegistry();
    client.lookup.mockRejectedValueOnce(new SchemaUnavailableError('subject not found', 404, 40401)).mockResolvedValueOnce(5);
    const encoder = new SchemaEncoder(encodePlan({ registry: 'main', file: 'reading.avsc' }), handle);
    await expect(encoder.resolve('orders')).rejects.toThrow(SchemaUnavailableError);
    await expect(encoder.resolve('orders')).resolves.toMatchObject({ id: 5 });
    expect(client.lookup).toHaveBeenCalledTimes(2);
  });

  describe('without a file (the registry holds the schema)', () => {
    it('fetches the version asked for, compiled for the rule', async () => {
      const { client, handle } = fakeRegistry();
      client.subjectVersion.mockResolvedValue(version({ subject: 'readings', version: 3 }));
      const resolved = await new SchemaEncoder(encodePlan({ registry: 'main', subject: 'readings', version: 3 }), handle).resolve('orders');
      expect(client.subjectVersion).toHaveBeenCalledWith('readings', 3);
      expect(resolved.id).toBe(11);
      expect(resolved.codec.recordName).toBe('iot.v1.Reading');
    });

    it('waits through the retry loop while the registry is down and nothing is known yet', async () => {
      const { client, handle, waits } = fakeRegistry();
      client.subjectVersion.mockRejectedValueOnce(new RegistryUnavailableError('down', 503)).mockResolvedValueOnce(version());
      const encoder = new SchemaEncoder(encodePlan({ registry: 'main' }), handle);
      await expect(encoder.resolve('orders')).resolves.toMatchObject({ id: 11 });
      expect(waits).toEqual(['fetching orders-value version latest']);
      expect(client.subjectVersion).toHaveBeenCalledWith('orders-value', 'latest');
    });

    it('keeps writing with the last latest it had while the registry is down', async () => {
      let now = 1_000_000;
      // Before the encoder is built: its caches take Date.now when constructed.
      jest.spyOn(Date, 'now').mockImplementation(() => now);
      const { client, handle, waits } = fakeRegistry();
      client.subjectVersion.mockResolvedValueOnce(version()).mockRejectedValue(new RegistryUnavailableError('down', 503));
      const encoder = new SchemaEncoder(encodePlan({ registry: 'main' }), handle);
      const before = await encoder.resolve('orders');
      now += 1_001; // past the 1 s a latest resolution is shared
      await expect(encoder.resolve('orders')).resolves.toBe(before);
      expect(client.subjectVersion).toHaveBeenCalledTimes(2);
      expect(waits).toEqual([]);
    });

    it('refuses a schema of another type than the rule writes', async () => {
      const { client, handle } = fakeRegistry();
      client.subjectVersion.mockResolvedValue(version({ schemaType: 'PROTOBUF', schema: READING_PROTO }));
      const encoder = new SchemaEncoder(encodePlan({ registry: 'main' }), handle);
      const failure = encoder.resolve('orders');
      await expect(failure).rejects.toThrow(SchemaUnavailableError);
      await expect(failure).rejects.toThrow('subject orders-value version 2 is a PROTOBUF schema; the rule writes avro');
    });
  });

  describe('framing', () => {
    it('writes magic 0, the id big-endian, then the Avro body', async () => {
      const { client, handle } = fakeRegistry();
      client.lookup.mockResolvedValue(0x01020304);
      const encoder = new SchemaEncoder(encodePlan({ registry: 'main', file: 'reading.avsc' }), handle);
      const bytes = encoder.encode(await encoder.resolve('orders'), reading);
      expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0, 1, 2, 3, 4]));
      const frame = decodeConfluentFrame(bytes, false);
      expect(frame.schemaId).toBe(0x01020304);
      expect(compileAvroSchema(READING_AVSC).decode(frame.body)).toEqual(reading);
    });

    it('writes the Protobuf message index of the message the rule names', async () => {
      const { client, handle } = fakeRegistry();
      client.lookup.mockResolvedValue(3);
      const plan = encodePlan({ registry: 'main', file: 'reading.proto', message: 'Second' }, 'protobuf');
      const encoder = new SchemaEncoder(plan, handle);
      const frame = decodeConfluentFrame(encoder.encode(await encoder.resolve('orders'), { note: 'hi' }), true);
      expect(frame).toMatchObject({ schemaId: 3, messageIndexes: [1] });
      expect(plan.codec!.decode(frame.body)).toEqual({ note: 'hi' });
    });

    it('throws SchemaInvalidError for a document that does not fit, naming the field', async () => {
      const { client, handle } = fakeRegistry();
      client.lookup.mockResolvedValue(1);
      const encoder = new SchemaEncoder(encodePlan({ registry: 'main', file: 'reading.avsc' }), handle);
      const resolved = await encoder.resolve('orders');
      expect(() => encoder.encode(resolved, { device: 'th-1', t: 'warm' })).toThrow(expect.objectContaining({ pointer: '/t' }));
      expect(() => encoder.encode(resolved, { device: 'th-1', t: 'warm' })).toThrow(SchemaInvalidError);
    });
  });
});
