import { Document } from '@app/transform';

/*
 * Schemas and documents for the registry's specs, the pipeline's and the e2e tests. The
 * telemetry Avro record and Protobuf message declare the same fields, so the same JSON or CBOR
 * payload fits both; the reading schemas are the smallest that still name a record.
 */

export const AVRO_TELEMETRY = JSON.stringify({
  type: 'record',
  name: 'Telemetry',
  namespace: 'iot.v1',
  fields: [
    { name: 'device_id', type: 'string' },
    { name: 'ts', type: 'long' },
    { name: 'temperature', type: 'double' },
    { name: 'battery', type: ['null', 'int'], default: null },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['OK', 'FAULT'] } },
    {
      name: 'readings',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Reading',
          fields: [
            { name: 'k', type: 'string' },
            { name: 'v', type: 'float' },
          ],
        },
      },
    },
    { name: 'tags', type: { type: 'map', values: 'string' } },
  ],
});

// Two messages, so that the one written is not the first and the frame carries index [1].
export const PROTO_TELEMETRY = `syntax = "proto3";
package iot.v1;

import "google/protobuf/timestamp.proto";

message Ack { string id = 1; }

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
}
`;

export const TELEMETRY_JSON =
  '{"device_id":"th-1","ts":1764250000123,"temperature":21.5,"battery":87,"status":"OK","readings":[{"k":"rh","v":40.5}],"tags":{"site":"plant-1"}}';
export const telemetry = JSON.parse(TELEMETRY_JSON) as { [field: string]: Document };

/** The smallest record: a device and a temperature. */
export const READING_AVSC = JSON.stringify({
  type: 'record',
  name: 'Reading',
  namespace: 'iot.v1',
  fields: [
    { name: 'device', type: 'string' },
    { name: 't', type: 'double' },
  ],
});

/** The same as Protobuf, with a second message for the frame's message indexes. */
export const READING_PROTO = 'syntax = "proto3";\npackage iot.v1;\nmessage Reading { string device = 1; double t = 2; }\nmessage Second { string note = 1; }\n';
