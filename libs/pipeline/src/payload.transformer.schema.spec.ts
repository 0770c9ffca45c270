import { BridgeMessage } from '@app/core';
import { EnvelopeSealer, generateKeyEntry, Keyring, publisherCrypto, SodiumProvider, type Sodium } from '@app/crypto';
import { TemplateContext } from '@app/topic';
import { compileProcess, processSchema, SchemaInvalidError, TransformProgram } from '@app/transform';
import { compileAvroSchema, planRuleSchema, RuleSchemaPlan, ruleSchemaSchema, SchemaDecoder, SchemaEncoder } from '@app/registry';
import { TransformConfig } from '@app/bridge-config';
import { PayloadTransformer, TransformingRule } from './payload.transformer';
import { context, message, openedBy, transform } from './testing/transformer.fixture';

const READING_AVSC = JSON.stringify({
  type: 'record',
  name: 'Reading',
  namespace: 'iot.v1',
  fields: [
    { name: 'device', type: 'string' },
    { name: 't', type: 'double' },
    { name: 'site', type: 'string' },
  ],
});
const avro = compileAvroSchema(READING_AVSC);

function schemaPlan(input: 'json' | 'avro', output: 'json' | 'avro'): RuleSchemaPlan {
  const { plan, problems } = planRuleSchema({ input, output, schema: ruleSchemaSchema.parse({ file: 'reading.avsc' }) }, [], () => READING_AVSC);
  expect(problems).toEqual([]);
  return plan!;
}
const program = (config: unknown): TransformProgram => compileProcess(processSchema.parse(config), () => ({})).program!;
// JSON in, Avro out: a filter, then a field the device does not send.
const toAvro = () => program({ input: 'json', output: 'avro', steps: [{ filter: 'payload.device != "ignored"' }, { enrich: { site: 'captures.site' } }] });
const encoder = () => new SchemaEncoder(schemaPlan('json', 'avro') as Extract<RuleSchemaPlan, { direction: 'encode' }>);

describe('PayloadTransformer.prepareWithSchema', () => {
  let sodium: Sodium;
  let keyring: Keyring;
  let sealer: EnvelopeSealer;
  let transformer: PayloadTransformer;

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
    keyring = Keyring.from([generateKeyEntry(sodium, 'devices', 'symmetric'), generateKeyEntry(sodium, 'consumers', 'symmetric')]);
    sealer = new EnvelopeSealer(sodium);
    transformer = new PayloadTransformer(sealer, { current: () => keyring });
  });
  afterEach(() => jest.restoreAllMocks());

  const prepare = (rule: TransformingRule, m: BridgeMessage) => transformer.prepareWithSchema(rule, m, context(m), () => ['telemetry.a']);
  const sealFromDevice = (text: string, topic = 'site/a/temp') =>
    Buffer.from(sealer.seal(new TextEncoder().encode(text), { keyring, keyName: 'devices', topic }));
  const opened = (): Buffer[] => openedBy(sealer);
  const zeroed = (bytes: Buffer) => bytes.length > 0 && bytes.every((b) => b === 0);

  describe('encoding the output with a schema', () => {
    const passthrough = transform({ mode: 'passthrough' });

    it('writes the Avro body of the steps’ document, and wipes it (not the message) on dispose', async () => {
      const payload = Buffer.from('{"device":"d1","t":21.5}');
      const prepared = await prepare({ transform: passthrough, process: toAvro(), schemaEncoder: encoder() }, message(payload));
      const expected = { device: 'd1', t: 21.5, site: 'a' };
      expect(prepared.document).toEqual(expected);
      const bytes = prepared.forAddress('telemetry.a');
      expect(bytes).toEqual(avro.encode(expected));
      prepared.dispose();
      expect(zeroed(bytes)).toBe(true);
      expect(payload.toString()).toBe('{"device":"d1","t":21.5}');
    });

    it('refuses a document that does not fit with SchemaInvalidError at its JSON pointer', async () => {
      const rule = { transform: passthrough, process: toAvro(), schemaEncoder: encoder() };
      const failure = prepare(rule, message(Buffer.from('{"device":"d1","t":"warm"}')));
      await expect(failure).rejects.toThrow(SchemaInvalidError);
      await expect(failure).rejects.toMatchObject({ pointer: '/t', code: 'schema-invalid' });
    });

    it('gives filteredBy with nothing to write when a filter says false', async () => {
      const prepared = await prepare(
        { transform: passthrough, process: toAvro(), schemaEncoder: encoder() },
        message(Buffer.from('{"device":"ignored","t":1}')),
      );
      expect(prepared.filteredBy).toBe('steps[0].filter');
      expect(() => prepared.forAddress('telemetry.a')).toThrow();
    });

    it('seals the Avro body for each address when re-encrypting, bound to that address', async () => {
      const reencrypt = transform({ mode: 'reencrypt', sourceKey: 'devices', destinationKey: 'consumers' });
      const prepared = await prepare({ transform: reencrypt, process: toAvro(), schemaEncoder: encoder() }, message(sealFromDevice('{"device":"d1","t":3}')));
      const key = [{ name: 'consumers', version: 1, secret: keyring.decryptionKey('consumers', 1).secret }];
      const plaintext = publisherCrypto(sodium).open(prepared.forAddress('telemetry.a'), key, 'telemetry.a').plaintext;
      expect(avro.decode(plaintext)).toEqual({ device: 'd1', t: 3, site: 'a' });
      prepared.dispose();
    });
  });

  describe('a decrypt rule', () => {
    const decrypt = transform({ mode: 'decrypt', sourceKey: 'devices' });

    it('wipes the opened plaintext when the document does not fit', async () => {
      const buffers = opened();
      const rule = { transform: decrypt, process: toAvro(), schemaEncoder: encoder() };
      await expect(prepare(rule, message(sealFromDevice('{"device":"d1","t":"warm"}')))).rejects.toThrow(SchemaInvalidError);
      expect(buffers).toHaveLength(1);
      expect(zeroed(buffers[0])).toBe(true);
    });

    it('keeps the opened plaintext until dispose, then wipes it', async () => {
      const buffers = opened();
      const prepared = await prepare({ transform: decrypt, process: toAvro(), schemaEncoder: encoder() }, message(sealFromDevice('{"device":"d1","t":1}')));
      expect(buffers[0].toString()).toBe('{"device":"d1","t":1}');
      prepared.dispose();
      expect(zeroed(buffers[0])).toBe(true);
    });
  });

  it('decodes Avro input with the schema and writes JSON, leaving the message bytes alone', async () => {
    const decoder = new SchemaDecoder(schemaPlan('avro', 'json') as Extract<RuleSchemaPlan, { direction: 'decode' }>);
    const process = program({ input: 'avro', output: 'json', steps: [{ enrich: { site: 'captures.site' } }] });
    const payload = avro.encode({ device: 'd1', t: 21.5, site: 'elsewhere' });
    const original = Buffer.from(payload);
    const prepared = await prepare({ transform: transform({ mode: 'passthrough' }), process, schemaDecoder: decoder }, message(payload));
    expect(JSON.parse(prepared.forAddress('telemetry.a').toString())).toEqual({ device: 'd1', t: 21.5, site: 'a' });
    prepared.dispose();
    expect(payload).toEqual(original);
  });
});
