import { parseDocument } from 'yaml';
import { findYamlLimitFault, MAX_ALIAS_VALUES, MAX_YAML_NESTING } from './yaml-limits';

function fault(text: string): { at: string; message: string } | null {
  const found = findYamlLimitFault(parseDocument(text).contents);
  // The text from the offset on, so each case shows which node is blamed.
  return found && { at: text.slice(found.offset, found.offset + 6), message: found.message };
}

const BILLION_LAUGHS = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
`;

describe('findYamlLimitFault', () => {
  it('accepts ordinary documents, including reused anchors', () => {
    expect(fault('')).toBeNull();
    expect(fault('a: 1\nb: [x, {c: d}]')).toBeNull();
    const reuse = 'defaults: &d { acks: all, idempotent: true }\n' + Array.from({ length: 500 }, (_, i) => `r${i}: { qos1: *d, qos2: *d }`).join('\n');
    expect(fault(reuse)).toBeNull();
  });

  it(`accepts ${MAX_YAML_NESTING} levels and refuses one more, at the first node too deep`, () => {
    expect(fault('['.repeat(MAX_YAML_NESTING) + ']'.repeat(MAX_YAML_NESTING))).toBeNull();
    expect(fault('a: ' + '['.repeat(MAX_YAML_NESTING + 1) + ']'.repeat(MAX_YAML_NESTING + 1))).toEqual({
      at: '[[]]]]',
      message: 'values are nested deeper than 64 levels',
    });
  });

  it('survives nesting deep enough to overflow the parser, without recursion of its own', () => {
    const text = 'mqtt:\n' + Array.from({ length: 3000 }, (_, i) => `${'  '.repeat(i + 1)}a:\n`).join('');
    const found = findYamlLimitFault(parseDocument(text).contents);
    expect(found?.message).toBe('values are nested deeper than 64 levels');
    // Level 65 is the map that starts on line 65 of the text.
    expect(text.slice(0, found!.offset).split('\n')).toHaveLength(65);
  });

  it('refuses a billion-laughs alias bomb at the alias that copies too much', () => {
    // a is 10 values, b copies 9 x 10, c 9 x 91, d 9 x 820, e 9 x 7381: 74718 so far; f's first *e brings 66430 more.
    expect(fault(BILLION_LAUGHS)).toEqual({
      at: '*e,*e,',
      message: `aliases copy more than ${MAX_ALIAS_VALUES} values once *e here is expanded; is this a YAML alias bomb?`,
    });
  });

  it('refuses an alias that nests deeper than the limit once expanded', () => {
    const deep = '['.repeat(40) + ']'.repeat(40);
    expect(fault(`a: &a ${deep}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]`)).toEqual({
      at: '*a]]]]',
      message: 'alias *a nests values deeper than 64 levels once expanded',
    });
  });

  it('refuses an alias without an anchor before it, and one inside what it refers to', () => {
    expect(fault('a: *b\nb: &b 1')).toEqual({ at: '*b\nb: ', message: 'alias *b has no anchor &b before it' });
    expect(fault('a: &a [1, *a]')).toEqual({ at: '*a]', message: 'alias *a is inside the value it refers to, which would never end' });
  });

  it('resolves an alias to the last anchor of its name before it', () => {
    // The first &x is a long list, the second a scalar: *x copies one value, 100 times.
    const text = `x: &x [${'1,'.repeat(5000)}]\ny: &x 1\nz: [${'*x,'.repeat(100)}]`;
    expect(fault(text)).toBeNull();
  });
});
