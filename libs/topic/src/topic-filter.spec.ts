import { TopicFilterError, parseTopicFilter } from './topic-filter';

function errorOf(source: string): TopicFilterError {
  try {
    parseTopicFilter(source);
  } catch (e) {
    if (e instanceof TopicFilterError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
}

describe('parseTopicFilter: valid filters', () => {
  it('parses literals and plain wildcards', () => {
    const f = parseTopicFilter('a/+/#');
    expect(f.source).toBe('a/+/#');
    expect(f.mqtt).toBe('a/+/#');
    expect(f.levels).toEqual([{ kind: 'literal', value: 'a' }, { kind: 'single' }, { kind: 'multi' }]);
    expect(f.captures).toEqual([]);
  });

  it('keeps empty levels as levels', () => {
    expect(parseTopicFilter('a//b').levels).toHaveLength(3);
    expect(parseTopicFilter('/a').levels).toEqual([
      { kind: 'literal', value: '' },
      { kind: 'literal', value: 'a' },
    ]);
    expect(parseTopicFilter('/').levels).toHaveLength(2);
    expect(parseTopicFilter('a/').mqtt).toBe('a/');
  });

  it('turns named captures into plain wildcards for the broker', () => {
    const f = parseTopicFilter('sensors/{site}/+/{metric}');
    expect(f.mqtt).toBe('sensors/+/+/+');
    expect(f.captures).toEqual(['site', 'metric']);
    expect(f.levels[1]).toEqual({ kind: 'single', name: 'site' });
    expect(f.levels[2]).toEqual({ kind: 'single' });
  });

  it('accepts a multi-level capture as the last level', () => {
    const f = parseTopicFilter('logs/{app}/{rest#}');
    expect(f.mqtt).toBe('logs/+/#');
    expect(f.levels[2]).toEqual({ kind: 'multi', name: 'rest' });
    expect(f.captures).toEqual(['app', 'rest']);
    expect(parseTopicFilter('{all#}').mqtt).toBe('#');
  });

  it('accepts capture names with underscores and digits', () => {
    expect(parseTopicFilter('{_a1}/{B_2}').captures).toEqual(['_a1', 'B_2']);
  });

  it('accepts unicode, $ topics and a filter of exactly 65535 bytes', () => {
    expect(parseTopicFilter('capteurs/été/°C').mqtt).toBe('capteurs/été/°C');
    expect(parseTopicFilter('$SYS/#').levels[0]).toEqual({ kind: 'literal', value: '$SYS' });
    expect(parseTopicFilter('$share').mqtt).toBe('$share');
    expect(parseTopicFilter('a'.repeat(65535)).levels).toHaveLength(1);
  });

  it('returns a frozen value', () => {
    const f = parseTopicFilter('a/{b}');
    expect(Object.isFrozen(f)).toBe(true);
    expect(Object.isFrozen(f.levels)).toBe(true);
    expect(Object.isFrozen(f.levels[1])).toBe(true);
    expect(Object.isFrozen(f.captures)).toBe(true);
  });
});

describe('parseTopicFilter: invalid filters', () => {
  it('rejects the empty filter', () => {
    const e = errorOf('');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('TopicFilterError');
    expect(e.filter).toBe('');
    expect(e.level).toBeUndefined();
    expect(e.message).toBe('invalid topic filter "": a filter must not be empty; use "#" to match every topic');
  });

  it('rejects "#" anywhere but last', () => {
    const e = errorOf('a/#/b');
    expect(e.level).toBe(2);
    expect(e.message).toBe('invalid topic filter "a/#/b": level 2 ("#") is "#", which must be the last level (the filter has 3 levels)');
    expect(errorOf('#/').level).toBe(1);
  });

  it.each([
    ['a+/b', 1, '+'],
    ['a/b#', 2, '#'],
    ['sp+rt', 1, '+'],
    ['a/++', 2, '+'],
    ['a/#x', 2, '#'],
  ])('rejects %j: a wildcard mixed with other characters', (filter, level, wildcard) => {
    const e = errorOf(filter);
    expect(e.level).toBe(level);
    expect(e.message).toContain(`level ${level} (`);
    expect(e.message).toContain(`mixes "${wildcard}" with other characters; a wildcard must be a whole level on its own`);
  });

  it.each([
    ['a/{b', 2],
    ['a/b}', 2],
    ['{a}b', 1],
    ['x{a}', 1],
    ['{{a}}', 1],
    ['{a}{b}', 1],
    ['a/}{', 2],
  ])('rejects %j: braces that are not a capture', (filter, level) => {
    const e = errorOf(filter);
    expect(e.level).toBe(level);
    expect(e.message).toContain(`level ${level} (${JSON.stringify(filter.split('/')[level - 1])}) contains "{" or "}" but is not a capture`);
  });

  it.each([
    ['{}', ''],
    ['a/{1st}', '1st'],
    ['{my-site}', 'my-site'],
    ['{a b}', 'a b'],
    ['{#}', ''],
    ['{+}', '+'],
    ['{a#b}', 'a#b'],
    ['{été}', 'été'],
  ])('rejects %j: invalid capture name %j', (filter, name) => {
    expect(errorOf(filter).message).toContain(`has the invalid capture name ${JSON.stringify(name)}; a name starts with a letter or "_"`);
  });

  it('rejects a multi-level capture that is not last', () => {
    const e = errorOf('a/{rest#}/b');
    expect(e.level).toBe(2);
    expect(e.message).toBe(
      'invalid topic filter "a/{rest#}/b": level 2 ("{rest#}") is a multi-level capture, ' + 'which must be the last level (the filter has 3 levels)',
    );
  });

  it('rejects a duplicate capture name, naming both levels', () => {
    const e = errorOf('{site}/x/{site#}');
    expect(e.level).toBe(3);
    expect(e.message).toBe(
      'invalid topic filter "{site}/x/{site#}": capture name "site" is used at level 1 and again at level 3; ' + 'capture names must be unique within a filter',
    );
  });

  it('rejects NUL and says in which level', () => {
    const e = errorOf('a/b\u0000c');
    expect(e.level).toBe(2);
    expect(e.message).toBe('invalid topic filter "a/b\\u0000c": level 2 contains the NUL character (U+0000)');
  });

  it('rejects control characters, which Mosquitto refuses, and says in which level', () => {
    const e = errorOf('s/\ttab/#');
    expect(e.level).toBe(2);
    expect(e.message).toBe('invalid topic filter "s/\\ttab/#": level 2 contains the control character U+0009');
    expect(errorOf('a/b/c\u009B').message).toBe('invalid topic filter "a/b/c\\u009b": level 3 contains the control character U+009B');
  });

  it('rejects an unpaired surrogate, which has no UTF-8 form', () => {
    expect(errorOf('a/\uD800').message).toContain('level 2 contains an unpaired surrogate (U+D800)');
  });

  it('rejects filters longer than 65535 UTF-8 bytes', () => {
    const e = errorOf('é'.repeat(32768));
    expect(e.level).toBeUndefined();
    expect(e.message).toContain('the filter is 65536 UTF-8 bytes long; MQTT allows at most 65535');
    // The filter itself is truncated so the message stays readable.
    expect(e.message.length).toBeLessThan(300);
  });

  it.each(['$share/group/a/b', '$share/g/#', '$share/'])('rejects the shared subscription %j', (filter) => {
    expect(errorOf(filter).message).toBe(
      `invalid topic filter ${JSON.stringify(filter)}: shared subscriptions are not written in the filter; ` +
        'remove the "$share/<group>/" prefix and set the rule\'s shareGroup field instead',
    );
  });
});
