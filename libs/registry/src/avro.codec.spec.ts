import { DecodeFailedError, SchemaInvalidError } from '@app/transform';
import { compileAvroSchema } from './avro.codec';
import { SchemaUnavailableError } from './registry.errors';
import { AVRO_TELEMETRY } from './testing/schemas.fixture';

// The shared telemetry record with a bytes field, which only Avro's own specs need.
const shared = JSON.parse(AVRO_TELEMETRY) as { fields: object[] };
const TELEMETRY = { ...shared, fields: [...shared.fields, { name: 'raw', type: 'bytes' }] };

const document = {
  device_id: 'th-1',
  ts: 1764250000123,
  temperature: 21.5,
  battery: 87,
  status: 'OK',
  readings: [{ k: 'rh', v: 40.5 }],
  tags: { site: 'plant-1' },
  raw: new Uint8Array([1, 2, 3]),
};

describe('Avro codec', () => {
  const codec = compileAvroSchema(JSON.stringify(TELEMETRY));

  it('round-trips a document field for field, records as plain objects', () => {
    const decoded = codec.decode(codec.encode(document));
    expect(decoded).toEqual({ ...document, raw: Buffer.from([1, 2, 3]) });
    expect(Object.getPrototypeOf((decoded as { readings: object[] }).readings[0])).toBe(Object.prototype);
    expect(codec.recordName).toBe('iot.v1.Telemetry');
    expect(codec.format).toBe('avro');
  });

  it('writes the Avro binary encoding', () => {
    const small = compileAvroSchema({
      type: 'record',
      name: 'User',
      fields: [
        { name: 'name', type: 'string' },
        { name: 'age', type: 'int' },
      ],
    });
    expect(small.encode({ name: 'Alice', age: 30 }).toString('hex')).toBe('0a416c6963653c');
  });

  it('fills a missing field that has a default, and takes a bare value for a null union', () => {
    const { battery: _battery, ...withoutBattery } = document;
    expect(codec.decode(codec.encode(withoutBattery))).toMatchObject({ battery: null });
    expect(codec.decode(codec.encode({ ...document, battery: null }))).toMatchObject({ battery: null });
  });

  it.each([
    [{ ...document, temperature: 'warm' }, '/temperature', 'type', 'avro double'],
    [
      {
        ...document,
        readings: [
          { k: 'rh', v: 1 },
          { k: 'co2', v: 'high' },
        ],
      },
      '/readings/1/v',
      'type',
      'avro float',
    ],
    [{ ...document, battery: 87.5 }, '/battery', 'type', 'avro int'],
    [{ ...document, status: 'MAYBE' }, '/status', 'type', 'avro enum iot.v1.Status'],
    [{ ...document, tags: { site: 1 } }, '/tags/site', 'type', 'avro string'],
    [{ ...document, ts: 2 ** 60 }, '/ts', 'type', 'avro long'],
    [(({ device_id: _id, ...rest }) => rest)(document), '/device_id', 'required', 'avro string'],
    [{ ...document, readings: [{ k: 'rh', v: 1, unit: '%' }] }, '/readings/0/unit', 'undeclared', 'avro record iot.v1.Reading'],
    [{ ...document, firmware: '1.2' }, '/firmware', 'undeclared', 'avro record iot.v1.Telemetry'],
  ])('refuses a document that does not fit, naming the field: %#', (input, pointer, keyword, where) => {
    const error = catchError(() => codec.encode(input));
    expect(error).toBeInstanceOf(SchemaInvalidError);
    expect(error).toMatchObject({ code: 'schema-invalid', retriable: false, pointer, keyword, schemaPath: where });
  });

  it('never puts the value that does not fit into the message', () => {
    const error = catchError(() => codec.encode({ ...document, device_id: 4711 })) as Error;
    expect(error.message).toBe('payload /device_id fails "type" at avro string');
  });

  it('drops undeclared fields when told to', () => {
    const dropping = compileAvroSchema(TELEMETRY, { undeclaredFields: 'drop' });
    expect(dropping.decode(dropping.encode({ ...document, firmware: '1.2' }))).not.toHaveProperty('firmware');
  });

  it('refuses bytes that are not a record of the schema', () => {
    const bytes = codec.encode(document);
    expect(catchError(() => codec.decode(bytes.subarray(0, 5)))).toBeInstanceOf(DecodeFailedError);
    expect(catchError(() => codec.decode(Buffer.concat([bytes, Buffer.from([0])])))).toBeInstanceOf(DecodeFailedError);
  });

  it('refuses a schema that is not Avro', () => {
    expect(catchError(() => compileAvroSchema('{"type":"record","name":"X"}'))).toBeInstanceOf(SchemaUnavailableError);
    expect(catchError(() => compileAvroSchema('not json'))).toBeInstanceOf(SchemaUnavailableError);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
