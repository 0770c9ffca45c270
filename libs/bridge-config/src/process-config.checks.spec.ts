import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { loadBridgeConfig } from './bridge-config.loader';

const dir = mkdtempSync(join(tmpdir(), 'process-config-spec-'));
let n = 0;

function config(rule: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(
    file,
    `mqtt: { url: "mqtt://127.0.0.1:1883" }
kafka: { brokers: ["127.0.0.1:9092"] }
rules:
  - name: r
    filters: ["s/{site}/#"]
${rule}`,
  );
  return file;
}

async function problems(file: string): Promise<string[]> {
  try {
    await loadBridgeConfig(file, {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
  }
  throw new Error('expected the configuration to be refused');
}

describe('process sections at validation', () => {
  it('compiles a valid section once and keeps it by rule name', async () => {
    writeFileSync(join(dir, 'reading.json'), JSON.stringify({ type: 'object', required: ['t'] }));
    const loaded = await loadBridgeConfig(
      config(`    process:
      input: cbor
      output: json
      steps:
        - validate: { schemaFile: reading.json }
        - filter: payload.t > -40.0
    destinations: [{ type: kafka, topic: "t.{payload.kind}" }]
`),
      {},
    );
    expect(loaded.processes.get('r')).toMatchObject({ input: 'cbor', output: 'json' });
    expect(loaded.processes.get('r')!.steps.map((s) => s.kind)).toEqual(['validate', 'filter']);
  });

  it('lists every expression, path and schema problem with its line, column and YAML path', async () => {
    const found = await problems(
      config(`    process:
      steps:
        - filter: payload.t >
        - enrich: { ok: nope.x, "a..b": "1" }
        - validate: { schemaFile: missing.json }
        - validate: { schema: { type: object, maximun: 3 } }
        - map: "{"
    destinations: [{ type: kafka, topic: t }]
`),
    );
    expect(found).toEqual([
      '8:19 rules[0].process.steps[0].filter: invalid expression: unexpected token: EOF at column 12 of the expression',
      '9:25 rules[0].process.steps[1].enrich.ok: invalid expression: unknown variable: nope at column 1 of the expression',
      '9:41 rules[0].process.steps[1].enrich.a..b: field path "a..b" has an empty segment (two dots, or a dot at an end)',
      `10:35 rules[0].process.steps[2].validate.schemaFile: cannot read schema file ${JSON.stringify(join(dir, 'missing.json'))}`,
      '11:31 rules[0].process.steps[3].validate.schema: invalid JSON Schema (draft 2020-12): strict mode: unknown keyword: "maximun"',
      '12:16 rules[0].process.steps[4].map: invalid expression: unexpected token: EOF at column 2 of the expression',
    ]);
  });

  it('refuses {payload.PATH} in a destination of a rule that decodes no payload', async () => {
    const found = await problems(
      config(`    destinations: [{ type: kafka, topic: "t", key: "{payload.id}" }]
`),
    );
    expect(found).toEqual([
      '6:52 rules[0].destinations[0].key: {payload.id} reads the payload: give the rule a process section that decodes it (e.g. process: { input: json })',
    ]);
  });

  it('refuses a step naming two kinds, and an unknown step kind, listing the kinds', async () => {
    const found = await problems(
      config(`    process:
      steps:
        - { filter: "true", drop: [a] }
        - { sort: x }
    destinations: [{ type: kafka, topic: t }]
`),
    );
    expect(found).toEqual([
      '8:11 rules[0].process.steps[0]: a step has exactly one of validate, filter, map, enrich, rename, drop (this one has filter and drop; make them separate steps)',
      '9:11 rules[0].process.steps[1]: a step has exactly one of validate, filter, map, enrich, rename, drop',
      '9:13 rules[0].process.steps[1].sort: unknown field (expected one of: validate, filter, map, enrich, rename, drop)',
    ]);
  });
});
