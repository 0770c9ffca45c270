import { DecodeFailedError, SchemaInvalidError } from '@app/transform';
import { compileProtobufSchema } from './protobuf.codec';
import { SchemaUnavailableError } from './registry.errors';

const TELEMETRY = `
syntax = "proto3";
package iot.v1;

import "google/protobuf/timestamp.proto";

message Envelope { string id = 1; }

enum Status { STATUS_UNSPECIFIED = 0; OK = 1; FAULT = 2; }

message Telemetry {
  message Reading { string k = 1; float v = 2; }
  string device_id = 1;
  int64 ts = 2;
  double temperature = 3;
  uint32 battery = 4;
  Status status = 5;
  repeated Reading readings = 6;
  map<string, string> tags = 7;
  bytes raw = 8;
  google.protobuf.Timestamp seen = 9;
  oneof location { string site = 10; int32 zone = 11; }
}
`;

const document = {
  device_id: 'th-1',
  ts: 1764250000123,
  temperature: 21.5,
  battery: 87,
  status: 'OK',
  readings: [{ k: 'rh', v: 40.5 }],
  tags: { site: 'plant-1' },
  raw: new Uint8Array([1, 2, 3]),
  seen: { seconds: 1764250000, nanos: 5 },
  site: 'plant-1',
};

describe('Protobuf codec', () => {
  const codec = compileProtobufSchema(TELEMETRY, { messageName: 'Telemetry' });

  it('round-trips a document field for field, with the names as written in the schema', () => {
    expect(codec.decode(codec.encode(document))).toEqual({ ...document, raw: Buffer.from([1, 2, 3]) });
    expect(codec.recordName).toBe('iot.v1.Telemetry');
    expect(codec.format).toBe('protobuf');
  });

  it('gives unset fields their proto3 defaults on the way back', () => {
    expect(codec.decode(codec.encode({ device_id: 'th-1' }))).toEqual({
      device_id: 'th-1',
      ts: 0,
      temperature: 0,
      battery: 0,
      status: 'STATUS_UNSPECIFIED',
      readings: [],
      tags: {},
      raw: Buffer.alloc(0),
      seen: null,
    });
  });

  it('writes the Protobuf binary encoding', () => {
    const small = compileProtobufSchema('syntax = "proto3"; message Test1 { int32 a = 1; }');
    expect(small.encode({ a: 150 }).toString('hex')).toBe('089601'); // protobuf.dev's encoding example
  });

  it('names the message indexes Confluent frames carry', () => {
    expect(compileProtobufSchema(TELEMETRY).messageIndexes).toEqual([0]); // Envelope, the first message
    expect(codec.messageIndexes).toEqual([1]);
    const nested = 'syntax = "proto3"; package a; message A {} enum E { X = 0; } message B { message C {} message D { int32 x = 1; } }';
    expect(compileProtobufSchema(nested, { messageName: 'a.B.D' }).messageIndexes).toEqual([1, 1]);
    expect(compileProtobufSchema(nested, { messageName: 'B.C' }).messageIndexes).toEqual([1, 0]);
    expect(compileProtobufSchema(nested, { messageName: 'B.C' }).recordName).toBe('a.B.C');
  });

  it('takes enums by number and bytes as base64 text, as Protobuf JSON does', () => {
    expect(codec.decode(codec.encode({ status: 2, raw: 'AQID' }))).toMatchObject({ status: 'FAULT', raw: Buffer.from([1, 2, 3]) });
  });

  it.each([
    [{ temperature: 'warm' }, '/temperature', 'type', 'protobuf iot.v1.Telemetry.temperature (double)'],
    [{ battery: -1 }, '/battery', 'type', 'protobuf iot.v1.Telemetry.battery (uint32)'],
    [{ battery: 87.5 }, '/battery', 'type', 'protobuf iot.v1.Telemetry.battery (uint32)'],
    [{ ts: 2 ** 60 }, '/ts', 'type', 'protobuf iot.v1.Telemetry.ts (int64)'],
    [{ status: 'MAYBE' }, '/status', 'type', 'protobuf iot.v1.Telemetry.status (Status)'],
    [
      {
        readings: [
          { k: 'rh', v: 1 },
          { k: 'co2', v: 'high' },
        ],
      },
      '/readings/1/v',
      'type',
      'protobuf iot.v1.Telemetry.Reading.v (float)',
    ],
    [{ readings: { k: 'rh' } }, '/readings', 'type', 'protobuf iot.v1.Telemetry.readings (repeated Reading)'],
    [{ tags: { site: 1 } }, '/tags/site', 'type', 'protobuf iot.v1.Telemetry.tags (map)'],
    [{ raw: 'not base64!' }, '/raw', 'type', 'protobuf iot.v1.Telemetry.raw (bytes)'],
    [{ readings: [{ k: 'rh', unit: '%' }] }, '/readings/0/unit', 'undeclared', 'protobuf iot.v1.Telemetry.Reading'],
    [{ firmware: '1.2' }, '/firmware', 'undeclared', 'protobuf iot.v1.Telemetry'],
    [{ site: 'a', zone: 3 }, '/zone', 'oneof', 'protobuf iot.v1.Telemetry oneof location'],
  ])('refuses a document that does not fit, naming the field: %#', (input, pointer, keyword, where) => {
    const error = catchError(() => codec.encode({ ...document, site: undefined, ...input } as never));
    expect(error).toBeInstanceOf(SchemaInvalidError);
    expect(error).toMatchObject({ code: 'schema-invalid', retriable: false, pointer, keyword, schemaPath: where });
  });

  it('takes null as unset and drops undeclared fields when told to', () => {
    expect(codec.decode(codec.encode({ device_id: null }))).toMatchObject({ device_id: '' });
    const dropping = compileProtobufSchema(TELEMETRY, { messageName: 'Telemetry', undeclaredFields: 'drop' });
    expect(dropping.decode(dropping.encode({ device_id: 'a', firmware: '1.2' }))).not.toHaveProperty('firmware');
  });

  it('refuses bytes that are not a message of the schema', () => {
    expect(catchError(() => codec.decode(Buffer.from([0x0a, 0x05, 0x61])))).toBeInstanceOf(DecodeFailedError);
  });

  it.each([
    ['syntax = "proto3"; message {', 'cannot be compiled'],
    ['syntax = "proto3"; enum E { A = 0; }', 'declares no message'],
    ['syntax = "proto3"; import "other.proto"; message M { int32 a = 1; }', 'reference other schemas are not supported yet'],
    ['syntax = "proto3"; message M { Unknown u = 1; }', 'cannot be compiled'],
    ['syntax = "proto3"; message M { map<string,int32> m = 1; message N { int32 a = 1; } }', 'nested in a message with map fields'],
  ])('refuses a schema it cannot use: %s', (schema, message) => {
    const error = catchError(() => compileProtobufSchema(schema, schema.includes('message N') ? { messageName: 'M.N' } : {}));
    expect(error).toBeInstanceOf(SchemaUnavailableError);
    expect((error as Error).message).toContain(message);
  });

  it('refuses a message name the schema does not declare', () => {
    expect((catchError(() => compileProtobufSchema(TELEMETRY, { messageName: 'Nope' })) as Error).message).toBe('Protobuf schema declares no message Nope');
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
