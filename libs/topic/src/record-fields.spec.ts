import { RecordFields } from './record-fields';
import { compileTemplate, TemplateContext, TemplateError, TemplateRenderError } from './template';

function record(overrides: Partial<RecordFields> & { value?: string } = {}): TemplateContext {
  const { value = '{"device":{"id":"d-7","slot":3,"on":true,"tags":["a"]},"site":"lyon"}', ...fields } = overrides;
  let parsed: unknown;
  const fieldsOf: RecordFields = {
    kafkaTopic: 'commands',
    partition: 2,
    key: 'dev-1',
    headers: { tenant: 'acme', 'mqtt.topic': 'a/b' },
    json: () => {
      try {
        parsed ??= JSON.parse(value);
      } catch {
        return undefined;
      }
      return parsed;
    },
    ...fields,
  };
  return { topic: 'commands', levels: [], captures: {}, qos: 1, rule: 'cmd', clientId: 'bridge-1', record: fieldsOf };
}

function compileError(source: string): TemplateError {
  try {
    compileTemplate(source, [], 'kafka-record');
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
}

describe('templates over Kafka records', () => {
  it('renders key, headers, JSON payload fields, topic, partition and the common built-ins', () => {
    const t = compileTemplate(
      '{header.tenant}/{key}/{payload.device.id}/{payload.device.slot}/{payload.device.on}/{kafkaTopic}.{partition}/{rule}/{qos}',
      [],
      'kafka-record',
    );
    expect(t.render(record())).toBe('acme/dev-1/d-7/3/true/commands.2/cmd/1');
    expect(t.placeholders).toContain('payload.device.id');
    // Header names may contain dots; the whole rest is the name.
    expect(compileTemplate('{header.mqtt.topic}', [], 'kafka-record').render(record({ headers: { 'mqtt.topic': 'x' } }))).toBe('x');
  });

  it('refuses MQTT-only placeholders and names the allowed ones', () => {
    expect(compileError('d/{topic}').message).toBe(
      'invalid template "d/{topic}" at column 3: unknown placeholder "{topic}"; a template for Kafka records may use ' +
        '{key}, {kafkaTopic}, {partition}, {header.NAME}, {payload.PATH}, {qos}, {rule}, {clientId}',
    );
    expect(compileError('{level.0}').message).toContain('unknown placeholder "{level.0}"');
    expect(compileError('{}').message).toContain('empty placeholder "{}"');
    expect(compileError('{header.}').message).toContain('needs a header name');
    expect(compileError('{payload.a..b}').message).toContain('needs a dotted path of JSON fields');
  });

  it('keeps record placeholders out of MQTT templates', () => {
    expect(() => compileTemplate('{key}', [])).toThrow(TemplateError);
  });

  it.each([
    ['{key}', record({ key: null }), 'needs {key} but the record has no key'],
    ['{header.site}', record(), 'needs {header.site} but the record has no such header'],
    ['{payload.device.name}', record(), 'needs {payload.device.name} but the JSON value has no string, number or boolean there'],
    ['{payload.device}', record(), 'the JSON value has no string, number or boolean there'],
    ['{payload.device.tags}', record(), 'the JSON value has no string, number or boolean there'],
    ['{payload.site}', record({ value: 'not json' }), 'needs {payload.site} but the record value is not JSON'],
    ['{payload.constructor}', record(), 'the JSON value has no string, number or boolean there'],
  ])('refuses to render %s when the record lacks it', (source, ctx, detail) => {
    const t = compileTemplate(`d/${source}`, [], 'kafka-record');
    expect(() => t.render(ctx)).toThrow(TemplateRenderError);
    expect(() => t.render(ctx)).toThrow(detail);
  });

  it.each(['victim/cmd', 'a+', '#', 'nul\u0000'])('refuses a value that is not one topic level, without showing it: %j', (key) => {
    const t = compileTemplate('devices/{key}/cmd', [], 'kafka-record');
    let message = '';
    try {
      t.render(record({ key }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`template "devices/{key}/cmd": {key} is not a single topic level (it holds '/', '+', '#' or NUL)`);
  });

  it('shows a rendering in messages only when no Kafka record value went into it', () => {
    expect(compileTemplate('devices/{key}/cmd', [], 'kafka-record').show('devices/SECRET/cmd')).toBe(
      'rendered from "devices/{key}/cmd" (18 characters from the Kafka record, not shown)',
    );
    expect(compileTemplate('out/{site}', ['site'], 'mqtt-message').show('out/lyon')).toBe('"out/lyon"');
  });

  it('refuses to render a record template for an MQTT message', () => {
    const t = compileTemplate('{key}', [], 'kafka-record');
    expect(() => t.render({ ...record(), record: undefined })).toThrow('reads a Kafka record but was rendered for an MQTT message');
  });
});
