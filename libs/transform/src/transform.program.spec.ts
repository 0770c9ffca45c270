import { compileProcess, SchemaFileError } from './process.compiler';
import { processSchema } from './process.schema';
import { MessageFacts, TransformProgram } from './transform.program';
import { DecodeFailedError, SchemaInvalidError, TransformFailedError } from './transform.errors';
import { decodePayload, encodePayload } from './payload-format';

const facts: MessageFacts = {
  topic: 'sites/berlin/th-1/telemetry',
  levels: ['sites', 'berlin', 'th-1', 'telemetry'],
  captures: { site: 'berlin', device: 'th-1' },
  qos: 1,
  retain: false,
  rule: 'telemetry',
  clientId: 'bridge-1',
  receivedAt: Date.parse('2026-11-27T10:00:00Z'),
  properties: {},
  key: null,
  headers: {},
};

function program(process: unknown, schemas: Record<string, unknown> = {}): TransformProgram {
  const { program: compiled, problems } = compileProcess(processSchema.parse(process), (file) => {
    if (!(file in schemas)) throw new SchemaFileError(`cannot read ${file}`);
    return schemas[file];
  });
  if (!compiled) throw new Error(JSON.stringify(problems));
  return compiled;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const emitted = (result: ReturnType<TransformProgram['run']>) => {
  if (result.kind !== 'emit') throw new Error(`expected emit, got ${result.kind}`);
  return JSON.parse(result.bytes.toString());
};

describe('TransformProgram', () => {
  const typical = program({
    steps: [
      { filter: 'payload.t > -40.0 && payload.status == "ok"' },
      { rename: { dev: 'deviceId', t: 'temperature' } },
      { enrich: { tempF: 'payload.temperature * 9.0 / 5.0 + 32.0', 'where.site': 'captures.site', receivedAt: 'receivedAt' } },
      { drop: ['status'] },
    ],
  });

  it('renames, computes, enriches and drops, in order', () => {
    const out = emitted(typical.run(json({ dev: 'th-1', t: 20, status: 'ok' }), facts));
    expect(out).toEqual({ deviceId: 'th-1', temperature: 20, tempF: 68, where: { site: 'berlin' }, receivedAt: '2026-11-27T10:00:00.000Z' });
  });

  it('renames and drops top-level fields in place of order, replacing an existing target, and chains like moves', () => {
    const flat = program({ steps: [{ rename: { a: 'x', b: 'c' } }, { drop: ['d'] }] });
    const out = flat.run(Buffer.from('{"a":1,"c":0,"b":2,"d":3,"__proto__":{"polluted":true}}'), facts);
    expect(out.kind === 'emit' && out.bytes.toString()).toBe('{"x":1,"c":2,"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const chained = program({ steps: [{ rename: { a: 'b', b: 'c' } }] });
    expect(emitted(chained.run(json({ a: 1, b: 2 }), facts))).toEqual({ c: 1 });
  });

  it('filters: a false condition gives filtered and names the step', () => {
    expect(typical.run(json({ dev: 'th-1', t: 20, status: 'fault' }), facts)).toEqual({ kind: 'filtered', by: 'steps[0].filter' });
  });

  it('builds a new document with map, from fields or from one expression', () => {
    const fields = program({ steps: [{ map: { id: 'captures.device', 'reading.t': 'payload.t', tags: '["a", rule]' } }] });
    expect(emitted(fields.run(json({ t: 1.5, secret: 'x' }), facts))).toEqual({ id: 'th-1', reading: { t: 1.5 }, tags: ['a', 'telemetry'] });
    const whole = program({ steps: [{ map: '{"n": 1, "big": payload.t > 10.0}' }] });
    expect(emitted(whole.run(json({ t: 11 }), facts))).toEqual({ n: 1, big: true });
  });

  it('keeps the input bytes as they are when no step changes the document', () => {
    const validateOnly = program({ steps: [{ filter: 'true' }] });
    const input = Buffer.from('{ "t" : 1 }');
    const result = validateOnly.run(input, facts);
    expect(result).toMatchObject({ kind: 'emit', reencoded: false });
    expect(result.kind === 'emit' && result.bytes).toBe(input);
  });

  it('converts CBOR in to JSON out', () => {
    const convert = program({ input: 'cbor', output: 'json' });
    const result = convert.run(encodePayload('cbor', { t: 21.5, id: 'th-1' }), facts);
    expect(emitted(result)).toEqual({ t: 21.5, id: 'th-1' });
  });

  it('validates against a JSON Schema and names the pointer and keyword, never the value', () => {
    const validating = program(
      { steps: [{ validate: { schemaFile: 'telemetry.json' } }] },
      {
        'telemetry.json': { type: 'object', required: ['t'], properties: { t: { type: 'number', maximum: 100 } } },
      },
    );
    const error = catchError(() => validating.run(json({ t: 1234.5 }), facts));
    expect(error).toBeInstanceOf(SchemaInvalidError);
    expect((error as Error).message).toBe('payload /t fails "maximum" at #/properties/t/maximum');
    expect((error as Error).message).not.toContain('1234');
  });

  it('fails the message, with nothing emitted, when an expression fails on it', () => {
    const error = catchError(() => typical.run(json({ dev: 'th-1', t: 'warm', status: 'ok' }), facts));
    expect(error).toBeInstanceOf(TransformFailedError);
    expect((error as Error).message).toBe('steps[0].filter: no such overload: dyn<string> > double at column 1 of the expression');
  });

  it('refuses a payload that does not decode', () => {
    expect(catchError(() => typical.run(Buffer.from('not json'), facts))).toBeInstanceOf(DecodeFailedError);
  });

  it('refuses a filter that gives something other than true or false on a message', () => {
    const loose = program({ steps: [{ filter: 'payload.flag' }] });
    expect((catchError(() => loose.run(json({ flag: 'yes' }), facts)) as Error).message).toBe(
      'steps[0].filter: a filter must give true or false, it gave a string',
    );
  });

  it('decodes what it emitted with the same format (output defaults to input)', () => {
    const cbor = program({ input: 'cbor', steps: [{ enrich: { site: 'captures.site' } }] });
    const result = cbor.run(encodePayload('cbor', { t: 1 }), facts);
    expect(result.kind === 'emit' && decodePayload('cbor', result.bytes)).toEqual({ t: 1, site: 'berlin' });
  });
});

describe('compileProcess', () => {
  const problems = (process: unknown) => compileProcess(processSchema.parse(process), () => ({})).problems;

  it('lists every problem with its path: expressions, field paths, filter types, schemas', () => {
    expect(
      problems({
        steps: [
          { filter: 'payload.t >' },
          { filter: 'topic + "x"' },
          { enrich: { 'a..b': 'payload.t', ok: 'nope' } },
          { validate: { schema: { type: 'object', maximun: 3 } } },
        ],
      }),
    ).toEqual([
      { path: ['steps', 0, 'filter'], message: 'invalid expression: unexpected token: EOF at column 12 of the expression' },
      { path: ['steps', 1, 'filter'], message: 'a filter must give true or false; this expression gives string' },
      { path: ['steps', 2, 'enrich', 'a..b'], message: 'field path "a..b" has an empty segment (two dots, or a dot at an end)' },
      { path: ['steps', 2, 'enrich', 'ok'], message: 'invalid expression: unknown variable: nope at column 1 of the expression' },
      { path: ['steps', 3, 'validate', 'schema'], message: 'invalid JSON Schema (draft 2020-12): strict mode: unknown keyword: "maximun"' },
    ]);
  });

  it('refuses field steps on a payload that has no fields', () => {
    expect(problems({ input: 'raw', steps: [{ drop: ['a'] }] })).toEqual([
      { path: ['steps', 0], message: 'input raw has no fields to change; use map to build a document, or input json or cbor' },
    ]);
  });

  it('hands a schema format over as documents: decoded by the caller on the way in, unencoded on the way out', () => {
    const fromAvro = program({ input: 'avro', steps: [{ enrich: { site: 'captures.site' } }] });
    expect([fromAvro.input, fromAvro.output]).toEqual(['document', 'json']);
    const out = fromAvro.runDecoded({ t: 20 }, facts);
    expect(out.kind === 'emit' && JSON.parse(out.bytes.toString())).toEqual({ t: 20, site: 'berlin' });
    expect(() => fromAvro.run(json({ t: 20 }), facts)).toThrow(/runDecoded/);

    const toProtobuf = program({ input: 'cbor', output: 'protobuf', steps: [{ rename: { t: 'temperature' } }] });
    expect(toProtobuf.run(encodePayload('cbor', { t: 21.5 }), facts)).toEqual({ kind: 'document', document: { temperature: 21.5 } });
    expect(() => toProtobuf.runDecoded({ t: 1 }, facts)).toThrow(/decodes cbor itself/);
    expect(toProtobuf.hasFields).toBe(true);
  });

  it('refuses a step entry naming two kinds', () => {
    const parsed = processSchema.safeParse({ steps: [{ filter: 'true', drop: ['a'] }] });
    expect(parsed.success).toBe(false);
    expect(!parsed.success && parsed.error.issues[0].message).toBe(
      'a step has exactly one of validate, filter, map, enrich, rename, drop (this one has filter and drop; make them separate steps)',
    );
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
