import { DecodeFailedError } from '@app/transform';
import { compileAvroSchema } from './avro.codec';
import { encodeConfluentFrame } from './confluent-wire';
import { compileProtobufSchema } from './protobuf.codec';
import { SchemaUnavailableError } from './registry.errors';
import { planRuleSchema, RuleSchemaPlan } from './rule-schema.plan';
import { ruleSchemaSchema } from './rule-schema.schema';
import { RegistryHandle } from './schema-registries';
import { RegisteredSchema, SchemaRegistryClient } from './schema-registry.client';
import { SchemaDecoder } from './schema.decoder';
import { READING_AVSC } from './testing/schemas.fixture';

type DecodePlan = Extract<RuleSchemaPlan, { direction: 'decode' }>;

// Field 1 is a string in every message: decoding with the wrong one would not fail, only differ.
const READING_PROTO = `syntax = "proto3";
package iot.v1;
message Reading {
  message Inner { string label = 1; int32 n = 2; }
  string device = 1;
  double t = 2;
}
message Second { string note = 1; }
`;
const reading = { device: 'th-1', t: 21.5 };
const avro = compileAvroSchema(READING_AVSC);

const viaRegistry = (format: 'avro' | 'protobuf'): DecodePlan => ({ direction: 'decode', format, registry: 'main' });
const registered = (over: Partial<RegisteredSchema> = {}): RegisteredSchema => ({ id: 5, schemaType: 'AVRO', schema: READING_AVSC, references: [], ...over });

function fakeRegistry() {
  const client = { schemaById: jest.fn<Promise<RegisteredSchema>, [number]>() };
  const waits: string[] = [];
  const handle: RegistryHandle = {
    name: 'main',
    client: client as unknown as SchemaRegistryClient,
    retrying: <T>(what: string, ask: () => Promise<T>): Promise<T> => {
      waits.push(what);
      return ask();
    },
  };
  return { client, handle, waits };
}

describe('SchemaDecoder', () => {
  it('without a registry decodes bare bodies with the file’s schema', async () => {
    const { plan } = planRuleSchema({ input: 'avro', schema: ruleSchemaSchema.parse({ file: 'reading.avsc' }) }, [], () => READING_AVSC);
    const decoder = new SchemaDecoder(plan as DecodePlan);
    await expect(decoder.decode(avro.encode(reading))).resolves.toEqual(reading);
    expect(() => new SchemaDecoder(viaRegistry('avro'))).toThrow(TypeError);
  });

  it('with a registry fetches the schema the frame names and decodes the body after the frame', async () => {
    const { client, handle, waits } = fakeRegistry();
    client.schemaById.mockResolvedValue(registered({ id: 258 }));
    const decoder = new SchemaDecoder(viaRegistry('avro'), handle);
    await expect(decoder.decode(encodeConfluentFrame(258, avro.encode(reading)))).resolves.toEqual(reading);
    expect(client.schemaById).toHaveBeenCalledWith(258);
    expect(waits).toEqual(['fetching schema id 258']);
  });

  it.each([
    ['the first message', [0], 'Reading', reading],
    ['the second top-level message', [1], 'Second', { note: 'hi' }],
    ['a nested message', [0, 0], 'Reading.Inner', { label: 'x', n: 4 }],
  ])('decodes Protobuf at the frame’s message indexes: %s', async (_what, indexes, message, document) => {
    const { client, handle } = fakeRegistry();
    client.schemaById.mockResolvedValue(registered({ schemaType: 'PROTOBUF', schema: READING_PROTO }));
    const body = compileProtobufSchema(READING_PROTO, { messageName: message }).encode(document);
    const decoder = new SchemaDecoder(viaRegistry('protobuf'), handle);
    await expect(decoder.decode(encodeConfluentFrame(5, body, indexes))).resolves.toEqual(document);
  });

  it('shares one fetch among concurrent records of one id, and keeps the schema', async () => {
    const { client, handle } = fakeRegistry();
    let answer!: (schema: RegisteredSchema) => void;
    client.schemaById.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const decoder = new SchemaDecoder(viaRegistry('avro'), handle);
    const framed = encodeConfluentFrame(5, avro.encode(reading));
    const both = Promise.all([decoder.decode(framed), decoder.decode(framed)]);
    answer(registered());
    await expect(both).resolves.toEqual([reading, reading]);
    await expect(decoder.decode(framed)).resolves.toEqual(reading);
    expect(client.schemaById).toHaveBeenCalledTimes(1);
  });

  it('refuses a schema of another type than the rule reads, and asks again for the next record', async () => {
    const { client, handle } = fakeRegistry();
    client.schemaById.mockResolvedValueOnce(registered({ schemaType: 'PROTOBUF', schema: READING_PROTO })).mockResolvedValueOnce(registered());
    const decoder = new SchemaDecoder(viaRegistry('avro'), handle);
    const framed = encodeConfluentFrame(5, avro.encode(reading));
    const failure = decoder.decode(framed);
    await expect(failure).rejects.toThrow(SchemaUnavailableError);
    await expect(failure).rejects.toThrow('schema id 5 is a PROTOBUF schema; the rule reads avro');
    await expect(decoder.decode(framed)).resolves.toEqual(reading);
  });

  describe('throws DecodeFailedError for bytes that are not a record', () => {
    it('a bare body that is not Avro of the schema', async () => {
      const decoder = new SchemaDecoder({ direction: 'decode', format: 'avro', codec: avro });
      await expect(decoder.decode(Buffer.from([0xff, 0xff, 0xff]))).rejects.toThrow(DecodeFailedError);
    });

    it('bytes without the Confluent frame, before asking the registry', async () => {
      const { client, handle } = fakeRegistry();
      const decoder = new SchemaDecoder(viaRegistry('avro'), handle);
      await expect(decoder.decode(Buffer.concat([Buffer.from([1, 0, 0, 0, 5]), avro.encode(reading)]))).rejects.toThrow(DecodeFailedError);
      expect(client.schemaById).not.toHaveBeenCalled();
    });

    it('a frame whose body is not a record of the schema it names', async () => {
      const { client, handle } = fakeRegistry();
      client.schemaById.mockResolvedValue(registered());
      const decoder = new SchemaDecoder(viaRegistry('avro'), handle);
      await expect(decoder.decode(encodeConfluentFrame(5, Buffer.from([0xff, 0xff, 0xff])))).rejects.toThrow(DecodeFailedError);
    });
  });
});
