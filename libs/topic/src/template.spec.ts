import { TemplateContext, TemplateError, TemplateRenderError, compileTemplate, templateText } from './template';

function context(topic: string, overrides: Partial<TemplateContext> = {}): TemplateContext {
  return { topic, levels: topic.split('/'), captures: {}, qos: 1, rule: 'telemetry', clientId: 'bridge-1', ...overrides };
}

function compileError(source: string, captures: readonly string[] = []): TemplateError {
  try {
    compileTemplate(source, captures);
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
}

const ALLOWED_NO_CAPTURES =
  "allowed are built-ins {topic}, {level.N}, {qos}, {rule}, {clientId}, {payload.PATH} and no captures (none is defined by every one of the rule's filters)";

describe('compileTemplate: rendering', () => {
  it('renders pure literal text as a static template', () => {
    const t = compileTemplate('kafka.telemetry', []);
    expect(t.isStatic).toBe(true);
    expect(t.placeholders).toEqual([]);
    expect(t.source).toBe('kafka.telemetry');
    expect(t.render(context('a'))).toBe('kafka.telemetry');
  });

  it('treats the empty template as static and empty', () => {
    const t = compileTemplate('', []);
    expect(t.isStatic).toBe(true);
    expect(t.render(context('a'))).toBe('');
  });

  it('unescapes {{ and }} and stays static', () => {
    const t = compileTemplate('{{json}} a}}b{{', []);
    expect(t.isStatic).toBe(true);
    expect(t.render(context('a'))).toBe('{json} a}b{');
  });

  it('renders captures', () => {
    const t = compileTemplate('site-{site}.{metric}', ['site', 'device', 'metric']);
    expect(t.isStatic).toBe(false);
    expect(t.placeholders).toEqual(['site', 'metric']);
    expect(t.render(context('x', { captures: { site: 'paris', metric: 'temp' } }))).toBe('site-paris.temp');
    expect(t.render(context('x', { captures: { site: '', metric: '' } }))).toBe('site-.');
  });

  it('renders every built-in', () => {
    const t = compileTemplate('{topic}|{level.0}|{level.2}|{qos}|{rule}|{clientId}', []);
    expect(t.render(context('capteurs/été/°C', { qos: 2 }))).toBe('capteurs/été/°C|capteurs|°C|2|telemetry|bridge-1');
    expect(t.placeholders).toEqual(['topic', 'level.0', 'level.2', 'qos', 'rule', 'clientId']);
  });

  it('renders an empty level as the empty string', () => {
    expect(compileTemplate('[{level.0}]', []).render(context('/a'))).toBe('[]');
  });

  it('lists a placeholder used twice once, and renders it twice', () => {
    const t = compileTemplate('{site}-{site}', ['site']);
    expect(t.placeholders).toEqual(['site']);
    expect(t.render(context('x', { captures: { site: 's' } }))).toBe('s-s');
  });

  it('mixes escapes with placeholders', () => {
    const t = compileTemplate('{{{site}}}', ['site']);
    expect(t.render(context('x', { captures: { site: 's' } }))).toBe('{s}');
  });

  it('returns a frozen template', () => {
    const t = compileTemplate('{topic}', []);
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.placeholders)).toBe(true);
  });
});

describe('compileTemplate: compile errors', () => {
  it('names an unknown placeholder, its column and the allowed names', () => {
    const e = compileError('t.{sit}', ['site', 'metric']);
    expect(e.name).toBe('TemplateError');
    expect(e.template).toBe('t.{sit}');
    expect(e.column).toBe(3);
    expect(e.message).toBe(
      'invalid template "t.{sit}" at column 3: unknown placeholder "{sit}"; ' +
        'allowed are built-ins {topic}, {level.N}, {qos}, {rule}, {clientId}, {payload.PATH} and captures {site}, {metric}',
    );
  });

  it('says when the filters define no captures at all', () => {
    expect(compileError('{site}').message).toBe(`invalid template "{site}" at column 1: unknown placeholder "{site}"; ${ALLOWED_NO_CAPTURES}`);
  });

  it('counts columns in characters, not UTF-16 units', () => {
    expect(compileError('😀é{x}').column).toBe(3);
  });

  it('rejects an unclosed "{"', () => {
    const e = compileError('a.{site', ['site']);
    expect(e.column).toBe(3);
    expect(e.message).toBe('invalid template "a.{site" at column 3: unclosed "{"; write "{{" for a literal brace');
    expect(compileError('{a{b}', ['b']).message).toContain('at column 1: unclosed "{"');
  });

  it('rejects an empty placeholder', () => {
    expect(compileError('x{}').message).toBe(`invalid template "x{}" at column 2: empty placeholder "{}"; ${ALLOWED_NO_CAPTURES}`);
  });

  it('rejects a stray "}"', () => {
    expect(compileError('a}b').message).toBe('invalid template "a}b" at column 2: stray "}"; write "}}" for a literal brace');
    expect(compileError('{{a}').column).toBe(4);
  });

  it.each(['level.x', 'level.', 'level.01', 'level.-1', 'level.1.2'])('rejects {%s}', (name) => {
    expect(compileError(`{${name}}`).message).toContain(`placeholder "{${name}}" needs a 0-based level number without leading zeros, e.g. "{level.0}"`);
  });

  it('rejects a name that is both a built-in and a capture', () => {
    expect(compileError('{topic}', ['topic']).message).toContain('placeholder "{topic}" is ambiguous: it is both a built-in and a capture');
    // Harmless while the template does not use it.
    expect(compileTemplate('{level.0}', ['topic']).render(context('a'))).toBe('a');
  });

  it('does not treat placeholder names case-insensitively', () => {
    expect(compileError('{Topic}').message).toContain('unknown placeholder "{Topic}"');
  });
});

describe('compileTemplate: render errors', () => {
  it('refuses a level beyond the topic, so the message is dead-lettered', () => {
    const t = compileTemplate('k.{level.3}', []);
    let error: unknown;
    try {
      t.render(context('a/b/c'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateRenderError);
    expect(error).toMatchObject({
      name: 'TemplateRenderError',
      retriable: false,
      code: 'template',
      message: 'template "k.{level.3}" needs {level.3} but topic "a/b/c" has only 3 levels (0-based)',
    });
    expect(t.render(context('a/b/c/d'))).toBe('k.d');
  });

  it('refuses a capture the matching filter did not provide', () => {
    const t = compileTemplate('{site}', ['site', 'zone']);
    expect(() => t.render(context('z/1', { captures: { zone: '1' } }))).toThrow(
      new TemplateRenderError('template "{site}" needs capture {site} but the filter that matched topic "z/1" does not capture it'),
    );
  });

  it('does not read Object.prototype for a missing capture', () => {
    const t = compileTemplate('{constructor}', ['constructor']);
    expect(() => t.render(context('a'))).toThrow(TemplateRenderError);
  });
});

describe('templateText', () => {
  it('joins the fixed text between placeholders, escapes resolved', () => {
    expect(templateText('a/{site}/b{{c}}/{level.2}')).toEqual({ text: 'a//b{c}/', isStatic: false });
  });

  it('says a template without placeholders is static, its text being what it renders', () => {
    expect(templateText('bridge.{{x}}')).toEqual({ text: 'bridge.{x}', isStatic: true });
    expect(templateText('')).toEqual({ text: '', isStatic: true });
  });

  it('does not check placeholder names, which depend on the rule', () => {
    expect(templateText('{nobody}')).toEqual({ text: '', isStatic: false });
  });

  it("throws the compiler's error on malformed braces", () => {
    expect(() => templateText('a}b')).toThrow(new TemplateError('a}b', 2, 'stray "}"; write "}}" for a literal brace'));
  });
});
