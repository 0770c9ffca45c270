import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBridgeConfig, LoadedConfig } from '@app/bridge-config';
import { loadRuleTests } from './rule-test.cases';
import { RuleTestRunner } from './rule-test.runner';

// Bare Avro (a schema file, no registry): `bridge test` needs nothing else, and compares the
// output decoded with the rule's schema.
const AVRO = JSON.stringify({
  type: 'record',
  name: 'Reading',
  namespace: 'plant.v1',
  fields: [
    { name: 'device', type: 'string' },
    { name: 'temperature', type: 'double' },
    { name: 'raw', type: ['null', 'bytes'], default: null },
  ],
});

const CONFIG = `
mqtt: { url: "mqtt://127.0.0.1:1" }
kafka: { brokers: ["127.0.0.1:1"] }
rules:
  - name: avro
    filters: ["plant/{device}/avro"]
    process:
      input: cbor
      output: avro
      steps: [{ rename: { t: temperature } }, { enrich: { device: captures.device } }]
      schema: { file: reading.avsc }
    destinations: [{ type: kafka, topic: readings }]
  - name: json
    filters: ["plant/{device}/json"]
    process: { input: json }
    destinations: [{ type: kafka, topic: readings.json }]
`;

describe('RuleTestRunner with Avro outputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rule-test-schemas-'));
  let loaded: LoadedConfig;

  const run = async (text: string) => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.cases.yaml`);
    writeFileSync(file, `cases:\n${text}`);
    const tests = loadRuleTests(file, {}, []);
    const runner = await RuleTestRunner.create(loaded, tests);
    return Promise.all(tests.cases.map((c) => runner.run(c)));
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'reading.avsc'), AVRO);
    writeFileSync(join(dir, 'bridge.yaml'), CONFIG);
    loaded = await loadBridgeConfig(join(dir, 'bridge.yaml'), {}, 'worker');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compares an Avro output decoded with the rule schema, bytes as base64, and shows what differs', async () => {
    const [right, wrong] = await run(`
  - name: right
    topic: plant/th-1/avro
    cbor: { t: 21.5, raw: !!binary AQID }
    expect: { outputs: [{ topic: readings, decoded: { device: th-1, temperature: 21.5, raw: AQID } }] }
  - name: wrong
    topic: plant/th-2/avro
    cbor: { t: 19 }
    expect: { outputs: [{ topic: readings, decoded: { device: th-2, temperature: 20, raw: null } }] }
`);
    expect(right.differences).toEqual([]);
    expect(wrong.differences).toEqual(expect.arrayContaining(['outputs[0] (avro/kafka[0]) decoded:', '  -   "temperature": 20', '  +   "temperature": 19']));
  });

  it('says so when a case expects a decoded output of a rule that writes no Avro or Protobuf', async () => {
    const [result] = await run(`
  - name: json rule
    topic: plant/th-3/json
    json: { t: 1 }
    expect: { outputs: [{ topic: readings.json, decoded: { t: 1 } }] }
`);
    expect(result.differences).toEqual([
      'outputs[0] (json/kafka[0]) decoded: the rule writes no Avro or Protobuf; compare its payload with json, cbor, text or hex',
    ]);
  });

  it('dead-letters a document that does not fit, with the field path, as delivery would', async () => {
    const [result] = await run(`
  - name: no temperature
    topic: plant/th-4/avro
    cbor: { rh: 40 }
    expect: { deadLetter: { reason: schema-invalid, message: 'payload /temperature fails "required" at avro record plant.v1.Reading' } }
`);
    expect(result.differences).toEqual([]);
  });
});
