import { MQTT_MAX_STRING_BYTES, findForbiddenCharacter, levelNumberAt, utf8ByteLength } from './mqtt-string';

describe('utf8ByteLength', () => {
  it('counts 1, 2, 3 and 4 byte characters like a UTF-8 encoder', () => {
    for (const s of ['', 'abc', 'été', '°C', '€', '温度', '🌡️', 'a/😀/b']) {
      expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
    }
  });

  it('counts an unpaired surrogate as a 3-byte replacement character', () => {
    expect(utf8ByteLength('\uD800')).toBe(3);
    expect(utf8ByteLength('a\uDC00')).toBe(4);
  });

  it('exposes the MQTT two-byte length limit', () => {
    expect(MQTT_MAX_STRING_BYTES).toBe(65535);
  });
});

describe('findForbiddenCharacter', () => {
  it('accepts ordinary text, including astral characters', () => {
    expect(findForbiddenCharacter('capteurs/été/°C/😀')).toBeNull();
  });

  it('finds NUL', () => {
    expect(findForbiddenCharacter('ab\u0000c')).toEqual({ index: 2, description: 'the NUL character (U+0000)' });
  });

  it('finds a lone high or low surrogate but not a pair', () => {
    expect(findForbiddenCharacter('a\uD83D')?.index).toBe(1);
    expect(findForbiddenCharacter('\uDE00x')?.description).toContain('U+DE00');
    expect(findForbiddenCharacter('\uD83D\uDE00')).toBeNull();
  });
});

describe('levelNumberAt', () => {
  it('returns the 1-based level holding an index', () => {
    expect(levelNumberAt('a/bc/d', 0)).toBe(1);
    expect(levelNumberAt('a/bc/d', 1)).toBe(1);
    expect(levelNumberAt('a/bc/d', 3)).toBe(2);
    expect(levelNumberAt('a/bc/d', 5)).toBe(3);
    expect(levelNumberAt('//x', 2)).toBe(3);
  });
});
