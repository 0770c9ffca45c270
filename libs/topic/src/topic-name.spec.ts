import { validateTopicName, validateTopicTemplate } from './topic-name';

describe('validateTopicName', () => {
  it.each(['a', 'a/b', '/', '/a', 'a//b', '$SYS/x', 'capteurs/été/°C', ' '])('accepts %j', (topic) => {
    expect(validateTopicName(topic)).toBeNull();
  });

  it('rejects the empty name', () => {
    expect(validateTopicName('')).toBe('the topic name is empty');
  });

  it('rejects wildcards and says which one and where', () => {
    expect(validateTopicName('a/+/c')).toBe('the topic name contains the wildcard "+" at level 2; wildcards are only allowed in topic filters');
    expect(validateTopicName('a/b#')).toContain('"#" at level 2');
    expect(validateTopicName('#/a+')).toContain('"#" at level 1');
  });

  it('rejects NUL and unpaired surrogates', () => {
    expect(validateTopicName('a/b\u0000')).toBe('the topic name contains the NUL character (U+0000) at level 2');
    expect(validateTopicName('x\uD800')).toContain('unpaired surrogate (U+D800)');
  });

  it('rejects control characters and non-characters, which Mosquitto refuses', () => {
    expect(validateTopicName('out/\u0001')).toBe('the topic name contains the control character U+0001 at level 2');
    expect(validateTopicName('a\u0085/b')).toBe('the topic name contains the control character U+0085 at level 1');
    expect(validateTopicName('a/b/\uFFFF')).toBe('the topic name contains the Unicode non-character U+FFFF at level 3');
  });

  it('rejects names longer than 65535 UTF-8 bytes, counting bytes not characters', () => {
    expect(validateTopicName('a'.repeat(65535))).toBeNull();
    expect(validateTopicName('a'.repeat(65536))).toBe('the topic name is 65536 UTF-8 bytes long; MQTT allows at most 65535');
    // 'é' is two bytes: 32768 of them exceed the limit although the string is short.
    expect(validateTopicName('é'.repeat(32768))).toContain('65536 UTF-8 bytes');
  });
});

describe('validateTopicTemplate', () => {
  it.each(['a/b', 'devices/{key}/cmd', 'bridge/status/{clientId}', '{topic}', 'a/{{x}}/{site}'])('accepts %j', (template) => {
    expect(validateTopicTemplate(template)).toBeNull();
  });

  it('checks a template without placeholders as the topic name it always renders', () => {
    expect(validateTopicTemplate('out/\u0001')).toBe('invalid topic "out/\\u0001": the topic name contains the control character U+0001 at level 2');
    expect(validateTopicTemplate('a/+/b')).toBe(
      'invalid topic "a/+/b": the topic name contains the wildcard "+" at level 2; wildcards are only allowed in topic filters',
    );
    expect(validateTopicTemplate('{{x}}/#')).toBe(
      'invalid topic "{{x}}/#": the topic name contains the wildcard "#" at level 2; wildcards are only allowed in topic filters',
    );
  });

  it('refuses a character in the fixed text of a template, which every rendered topic would carry', () => {
    expect(validateTopicTemplate('cmd/\u0000/{key}')).toBe(
      'invalid topic template "cmd/\\u0000/{key}": its fixed text contains the NUL character (U+0000), which every topic it renders would carry',
    );
    expect(validateTopicTemplate('cmd/{key}/\u007F')).toBe(
      'invalid topic template "cmd/{key}/\\u007f": its fixed text contains the control character U+007F, which every topic it renders would carry',
    );
    expect(validateTopicTemplate('cmd/{key}/#')).toBe(
      'invalid topic template "cmd/{key}/#": its fixed text contains the wildcard "#"; wildcards are only allowed in topic filters',
    );
  });

  it('refuses a topic or fixed text over 65535 UTF-8 bytes, quoting it truncated', () => {
    expect(validateTopicTemplate('é'.repeat(32768))).toBe(
      `invalid topic "${'é'.repeat(80)}…" (32768 characters): the topic name is 65536 UTF-8 bytes long; MQTT allows at most 65535`,
    );
    expect(validateTopicTemplate('{key}' + 'a'.repeat(65536))).toMatch(
      /^invalid topic template "\{key\}a+…" \(65541 characters\): its fixed text is 65536 UTF-8 bytes long; MQTT allows at most 65535$/,
    );
  });

  it('leaves malformed braces to the template compiler', () => {
    expect(validateTopicTemplate('a/{b\u0000')).toBeNull();
  });
});
