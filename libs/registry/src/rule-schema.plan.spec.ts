import { ProcessFormat } from '@app/transform';
import { planRuleSchema, RuleSchemaProblem } from './rule-schema.plan';
import { ruleSchemaSchema } from './rule-schema.schema';
import { READING_AVSC, READING_PROTO } from './testing/schemas.fixture';

const FILES: Record<string, string> = {
  'reading.avsc': READING_AVSC,
  'reading.proto': READING_PROTO,
  'bad.avsc': '{"type":"record","name":"Broken","fields":[{"name":"a","type":"nope"}]}',
  'bad.proto': 'syntax = "proto3";\nmessage {',
};
const readFile = (file: string): string => {
  if (!(file in FILES)) throw new Error(`cannot read ${file}: ENOENT`);
  return FILES[file];
};

/** Plans a process section; the schema goes through the zod schema first, as configuration does (defaults). */
function plan(input: ProcessFormat, output: ProcessFormat | undefined, schema?: object, registries: readonly string[] = ['main']) {
  return planRuleSchema({ input, output, schema: schema && ruleSchemaSchema.parse(schema) }, registries, readFile);
}
const problem = (path: RuleSchemaProblem['path'], message: string) => ({ path, message: expect.stringContaining(message) as string });

describe('planRuleSchema refuses', () => {
  it('a rule that both decodes and encodes with a schema', () => {
    expect(plan('avro', 'protobuf', { registry: 'main' })).toEqual({
      problems: [problem(['output'], 'input avro and output protobuf: a rule decodes with a schema or encodes with one, not both')],
    });
  });

  it('a schema section on a rule without a schema format', () => {
    expect(plan('json', 'cbor', { file: 'reading.avsc' })).toEqual({
      problems: [problem(['schema'], 'schema applies when input or output is avro or protobuf')],
    });
  });

  it.each([
    ['avro', undefined, 'input avro needs a schema section'],
    ['json', 'protobuf', 'output protobuf needs a schema section'],
  ] as const)('input %s / output %s without a schema section', (input, output, message) => {
    expect(plan(input, output)).toEqual({ problems: [problem(['schema'], message)] });
  });

  it('an unknown registry, naming the ones defined, or saying none is', () => {
    expect(plan('json', 'avro', { registry: 'other', file: 'reading.avsc' }, ['main', 'backup']).problems).toEqual([
      problem(['schema', 'registry'], 'no schema registry named "other" under schemaRegistries (defined: main, backup)'),
    ]);
    expect(plan('json', 'avro', { registry: 'main', file: 'reading.avsc' }, []).problems).toEqual([problem(['schema', 'registry'], '(none is defined)')]);
  });

  // Protobuf, so that `message` is refused for the direction alone, not also for the format.
  it.each([
    ['file', 'reading.proto'],
    ['register', true],
    ['subject', 'readings-value'],
    ['subjectStrategy', 'topic'],
    ['version', 2],
    ['message', 'Reading'],
  ])('%s when decoding through a registry (the frame names the schema)', (field, value) => {
    expect(plan('protobuf', 'json', { registry: 'main', [field]: value })).toEqual({
      problems: [problem(['schema', field], `${field} does not apply to input: each record's frame names its schema id`)],
    });
  });

  it('decoding without a registry or a file', () => {
    expect(plan('avro', 'json', {}).problems).toEqual([problem(['schema'], 'input avro needs registry (Confluent-framed records) or file (bare avro bodies)')]);
  });

  it('encoding without a registry or a file', () => {
    expect(plan('json', 'protobuf', {}).problems).toEqual([
      problem(['schema'], 'output protobuf needs registry (with subject or file) or file (bare protobuf bodies)'),
    ]);
  });

  it.each([
    ['avro', 'json'],
    ['json', 'avro'],
  ] as const)('registry-only fields without a registry (input %s, output %s)', (input, output) => {
    const { problems } = plan(input, output, { file: 'reading.avsc', register: true, subject: 's', subjectStrategy: 'record', version: 1 });
    expect(problems).toEqual(
      (['register', 'subject', 'subjectStrategy', 'version'] as const).map((field) => problem(['schema', field], `${field} applies with a registry`)),
    );
  });

  it('version with file: the id of that very schema is looked up', () => {
    expect(plan('json', 'avro', { registry: 'main', file: 'reading.avsc', version: 3 }).problems).toEqual([
      problem(['schema', 'version'], 'version applies without file'),
    ]);
  });

  it('register without file: nothing to register', () => {
    expect(plan('json', 'avro', { registry: 'main', register: true }).problems).toEqual([problem(['schema', 'register'], 'register needs file')]);
  });

  it.each(['record', 'topic-record'])('subjectStrategy %s without subject or file: the record name is unknown', (strategy) => {
    expect(plan('json', 'avro', { registry: 'main', subjectStrategy: strategy }).problems).toEqual([
      problem(['schema', 'subjectStrategy'], `${strategy} names the subject after the record, which only the schema says: give subject, or file`),
    ]);
  });

  it('message on an avro rule', () => {
    expect(plan('json', 'avro', { file: 'reading.avsc', message: 'Reading' }).problems).toEqual([
      problem(['schema', 'message'], 'message applies to protobuf'),
    ]);
  });

  it('a file that cannot be read, with the reader’s own message', () => {
    expect(plan('json', 'avro', { file: 'missing.avsc' }).problems).toEqual([{ path: ['schema', 'file'], message: 'cannot read missing.avsc: ENOENT' }]);
  });

  it.each([
    ['avro', 'bad.avsc', 'bad.avsc: Avro schema cannot be compiled'],
    ['protobuf', 'bad.proto', 'bad.proto: Protobuf schema cannot be compiled'],
  ] as const)('a file that does not compile as %s, naming the file', (format, file, message) => {
    const { plan: planned, problems } = plan('json', format, { file });
    expect(planned).toBeUndefined();
    expect(problems).toEqual([problem(['schema', 'file'], message)]);
  });

  it('every problem at once, not just the first', () => {
    const { problems } = plan('json', 'avro', { registry: 'other', register: true, subjectStrategy: 'record', message: 'X' });
    expect(problems.map((p) => p.path)).toEqual([
      ['schema', 'registry'],
      ['schema', 'message'],
      ['schema', 'register'],
      ['schema', 'subjectStrategy'],
    ]);
  });
});

describe('planRuleSchema plans', () => {
  it('an encode with registry and file, with the defaults: lookup, topic strategy, latest, refuse', () => {
    const { plan: planned, problems } = plan('json', 'avro', { registry: 'main', file: 'reading.avsc' });
    expect(problems).toEqual([]);
    expect(planned).toEqual({
      direction: 'encode',
      format: 'avro',
      registry: 'main',
      codec: expect.objectContaining({ format: 'avro', recordName: 'iot.v1.Reading' }),
      schemaText: READING_AVSC,
      register: false,
      subject: undefined,
      strategy: 'topic',
      version: 'latest',
      message: undefined,
      undeclaredFields: 'refuse',
    });
  });

  it('an encode from the registry alone, at a given version under a given subject', () => {
    const { plan: planned } = plan('json', 'protobuf', { registry: 'main', subject: 'readings', subjectStrategy: 'record', version: 4, message: 'Second' });
    expect(planned).toMatchObject({ direction: 'encode', codec: undefined, schemaText: undefined, subject: 'readings', strategy: 'record', version: 4 });
  });

  it('the options that shape the codec: register, message, undeclaredFields drop', () => {
    const { plan: planned } = plan('json', 'protobuf', {
      registry: 'main',
      file: 'reading.proto',
      register: true,
      message: 'Second',
      undeclaredFields: 'drop',
    });
    expect(planned).toMatchObject({ register: true, message: 'Second', undeclaredFields: 'drop' });
    expect(planned?.codec?.recordName).toBe('iot.v1.Second');
    // Dropped, not refused: the compiled codec took the option.
    expect(planned?.codec?.decode(planned.codec.encode({ note: 'n', extra: 1 }))).toEqual({ note: 'n' });
  });

  it('a decode through a registry, without a codec (the frame names the schema)', () => {
    expect(plan('avro', 'json', { registry: 'main' })).toEqual({
      plan: { direction: 'decode', format: 'avro', registry: 'main', codec: undefined, message: undefined },
      problems: [],
    });
  });

  it('a bare decode with the file’s codec, at the message asked for', () => {
    const { plan: planned } = plan('protobuf', 'json', { file: 'reading.proto', message: 'Second' });
    expect(planned).toMatchObject({ direction: 'decode', format: 'protobuf', registry: undefined, message: 'Second' });
    expect(planned?.codec?.recordName).toBe('iot.v1.Second');
  });
});
