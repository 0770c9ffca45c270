import { parseTopicFilter } from './topic-filter';
import { matchTopic } from './topic-match';

function matches(filter: string, topic: string): boolean {
  return matchTopic(parseTopicFilter(filter), topic) !== null;
}

describe('matchTopic: MQTT 5.0 section 4.7 semantics', () => {
  it('matches literals exactly, level by level', () => {
    expect(matches('a/b', 'a/b')).toBe(true);
    expect(matches('a/b', 'a/bc')).toBe(false);
    expect(matches('a/bc', 'a/b')).toBe(false);
    expect(matches('a/b', 'a/b/')).toBe(false);
    expect(matches('a/b', 'a')).toBe(false);
    expect(matches('a/b', 'A/b')).toBe(false);
    expect(matches('/a', '/a')).toBe(true);
    expect(matches('/a', 'a')).toBe(false);
  });

  it('"a/#" matches the parent "a", an empty child and deeper levels', () => {
    for (const topic of ['a', 'a/', 'a/b', 'a/b/c', 'a//']) expect(matches('a/#', topic)).toBe(true);
    expect(matches('a/#', 'ab')).toBe(false);
    expect(matches('a/#', 'b/a')).toBe(false);
  });

  it('"+" matches exactly one level, including an empty one', () => {
    expect(matches('a/+', 'a/')).toBe(true);
    expect(matches('a/+', 'a/b')).toBe(true);
    expect(matches('a/+', 'a')).toBe(false);
    expect(matches('a/+', 'a/b/c')).toBe(false);
    expect(matches('+/+', '/x')).toBe(true);
    expect(matches('+/+', '/')).toBe(true);
    expect(matches('+', '/x')).toBe(false);
    expect(matches('+', 'x')).toBe(true);
  });

  it('"a/+/c" matches only three-level topics with those ends', () => {
    expect(matches('a/+/c', 'a/b/c')).toBe(true);
    expect(matches('a/+/c', 'a//c')).toBe(true);
    expect(matches('a/+/c', 'a/b/d')).toBe(false);
    expect(matches('a/+/c', 'a/b/c/d')).toBe(false);
    expect(matches('a/+/c', 'a/c')).toBe(false);
  });

  it('keeps wildcards that start the filter away from $ topics', () => {
    expect(matches('#', '$SYS/broker/load')).toBe(false);
    expect(matches('+/broker/load', '$SYS/broker/load')).toBe(false);
    expect(matches('{first}/#', '$SYS/x')).toBe(false);
    expect(matches('{all#}', '$SYS')).toBe(false);
    expect(matches('$SYS/#', '$SYS/broker/load')).toBe(true);
    expect(matches('$SYS/+/load', '$SYS/broker/load')).toBe(true);
    expect(matches('#', 'a/$SYS')).toBe(true);
    expect(matches('+/+', '/$x')).toBe(true);
    expect(matches('#', 'x$')).toBe(true);
  });

  it('compares unicode levels exactly', () => {
    expect(matches('capteurs/été/°C', 'capteurs/été/°C')).toBe(true);
    expect(matches('capteurs/+/°C', 'capteurs/été/°C')).toBe(true);
    // Decomposed é (e + combining accent) is a different topic name in MQTT.
    expect(matches('capteurs/été/°C', 'capteurs/e\u0301te\u0301/°C')).toBe(false);
    expect(matches('😀/#', '😀/x')).toBe(true);
  });

  it('never matches the empty string, which is not a topic name', () => {
    expect(matches('#', '')).toBe(false);
    expect(matches('+', '')).toBe(false);
  });
});

describe('matchTopic: captures', () => {
  const sensors = parseTopicFilter('sensors/{site}/{device}/{metric}');

  it('returns an empty object when the filter names no captures', () => {
    expect(matchTopic(parseTopicFilter('a/+/#'), 'a/b/c')).toEqual({});
  });

  it('captures single levels by name', () => {
    expect(matchTopic(sensors, 'sensors/paris/th-01/temperature')).toEqual({
      site: 'paris',
      device: 'th-01',
      metric: 'temperature',
    });
    expect(matchTopic(sensors, 'sensors//th-01/')).toEqual({ site: '', device: 'th-01', metric: '' });
    expect(matchTopic(sensors, 'sensors/paris/th-01')).toBeNull();
    expect(matchTopic(sensors, 'sensors/paris/th-01/t/x')).toBeNull();
  });

  it('captures the rest of the topic, and "" when "#" matches the parent', () => {
    const f = parseTopicFilter('a/{rest#}');
    expect(matchTopic(f, 'a/x/y')).toEqual({ rest: 'x/y' });
    expect(matchTopic(f, 'a')).toEqual({ rest: '' });
    expect(matchTopic(f, 'a/')).toEqual({ rest: '' });
    expect(matchTopic(f, 'a//y/')).toEqual({ rest: '/y/' });
    expect(matchTopic(parseTopicFilter('{all#}'), 'x/y')).toEqual({ all: 'x/y' });
  });

  it('mixes plain and named wildcards', () => {
    const f = parseTopicFilter('{site}/+/capteurs/{rest#}');
    expect(matchTopic(f, 'lyon/ignored/capteurs/été/°C')).toEqual({ site: 'lyon', rest: 'été/°C' });
  });

  it('stores names shaped like Object.prototype members as plain data', () => {
    const got = matchTopic(parseTopicFilter('{__proto__}/{constructor}'), 'a/b');
    expect(got).not.toBeNull();
    expect(Object.keys(got!)).toEqual(['__proto__', 'constructor']);
    expect(got!['__proto__']).toBe('a');
    expect(got!['constructor']).toBe('b');
  });

  it('returns a fresh object on every match', () => {
    const a = matchTopic(sensors, 'sensors/a/b/c');
    const b = matchTopic(sensors, 'sensors/a/b/c');
    expect(a).not.toBe(b);
  });
});
