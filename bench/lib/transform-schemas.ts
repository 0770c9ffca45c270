import { planRuleSchema, RegistryHandle, SchemaEncoder, SchemaRegistryClient } from '@app/registry';
import { compileProcess, processSchema, TransformProgram } from '@app/transform';
import { TYPICAL_PROCESS } from './transform-rule';

/** The typical rule's output document (bench/lib/transform-rule.ts) as an Avro record. */
export const TYPICAL_OUTPUT_AVRO = JSON.stringify({
  type: 'record',
  name: 'Environment',
  namespace: 'bench.v1',
  fields: [
    ...['celsius', 'humidity', 'pressure', 'voc', 'battery'].map((name) => ({ name, type: 'double' })),
    ...['co2', 'rssi', 'seq', 'uptime'].map((name) => ({ name, type: 'long' })),
    ...['fw', 'model', 'serial', 'ts'].map((name) => ({ name, type: 'string' })),
    {
      name: 'status',
      type: {
        type: 'record',
        name: 'Status',
        fields: [
          { name: 'door', type: 'string' },
          { name: 'tamper', type: 'boolean' },
          { name: 'alarms', type: 'int' },
        ],
      },
    },
    { name: 'fahrenheit', type: 'double' },
    { name: 'condensing', type: 'boolean' },
  ],
});

/** The same document as a Protobuf message. */
export const TYPICAL_OUTPUT_PROTO = `syntax = "proto3";
package bench.v1;
message Environment {
  message Status { string door = 1; bool tamper = 2; int32 alarms = 3; }
  double celsius = 1; double humidity = 2; double pressure = 3; double voc = 4; double battery = 5;
  int64 co2 = 6; sint64 rssi = 7; int64 seq = 8; int64 uptime = 9;
  string fw = 10; string model = 11; string serial = 12; string ts = 13;
  Status status = 14; double fahrenheit = 15; bool condensing = 16;
}
`;

/** A registry that already gave the schema id 1: the encoder asks it once, then never again. */
const RESOLVED_REGISTRY: RegistryHandle = {
  name: 'bench',
  client: { lookup: () => Promise.resolve(1) } as unknown as SchemaRegistryClient,
  retrying: (_what, ask) => ask(),
};

/** The typical rule writing `format` (Confluent-framed, schema id 1) instead of JSON. */
export function typicalSchemaRule(format: 'avro' | 'protobuf'): { process: TransformProgram; schemaEncoder: SchemaEncoder } {
  const section = { ...TYPICAL_PROCESS, output: format };
  const { program, problems } = compileProcess(processSchema.parse(section), () => undefined);
  const text = format === 'avro' ? TYPICAL_OUTPUT_AVRO : TYPICAL_OUTPUT_PROTO;
  const planned = planRuleSchema(
    { input: 'json', output: format, schema: { registry: 'bench', file: 'bench', undeclaredFields: 'refuse' } },
    ['bench'],
    () => text,
  );
  if (!program || !planned.plan) throw new Error(`the benchmark's ${format} rule does not compile: ${JSON.stringify([...problems, ...planned.problems])}`);
  return { process: program, schemaEncoder: new SchemaEncoder(planned.plan as Extract<typeof planned.plan, { direction: 'encode' }>, RESOLVED_REGISTRY) };
}
