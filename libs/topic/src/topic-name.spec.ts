import { validateTopicName } from './topic-name';

describe('validateTopicName', () => {
  it.each(['a', 'a/b', '/', '/a', 'a//b', '$SYS/x', 'capteurs/été/°C', ' '])('accepts %j', (topic) => {
    expect(validateTopicName(topic)).toBeNull();
  });

  it('rejects the empty name', () => {
    expect(validateTopicName('')).toBe('the topic name is empty');
  });

  it('rejects wildcards and says which one and where', () => {
    expect(validateTopicName('a/+/c')).toBe(
      'the topic name contains the wildcard "+" at level 2; wildcards are only allowed in topic filters',
    );
    expect(validateTopicName('a/b#')).toContain('"#" at level 2');
    expect(validateTopicName('#/a+')).toContain('"#" at level 1');
  });

  it('rejects NUL and unpaired surrogates', () => {
    expect(validateTopicName('a/b\u0000')).toBe('the topic name contains the NUL character (U+0000) at level 2');
    expect(validateTopicName('x\uD800')).toContain('unpaired surrogate (U+D800)');
  });

  it('rejects names longer than 65535 UTF-8 bytes, counting bytes not characters', () => {
    expect(validateTopicName('a'.repeat(65535))).toBeNull();
    expect(validateTopicName('a'.repeat(65536))).toBe(
      'the topic name is 65536 UTF-8 bytes long; MQTT allows at most 65535',
    );
    // 'é' is two bytes: 32768 of them exceed the limit although the string is short.
    expect(validateTopicName('é'.repeat(32768))).toContain('65536 UTF-8 bytes');
  });
});
