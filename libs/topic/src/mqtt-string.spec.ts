import { MQTT_MAX_STRING_BYTES, byteLengthProblem, findForbiddenCharacter, levelNumberAt, mqttStringProblem, utf8ByteLength } from './mqtt-string';

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
  it.each([
    ['a\tb', 1, 'the control character U+0009'],
    ['\u001Fx', 0, 'the control character U+001F'],
    ['ab\u007F', 2, 'the control character U+007F'],
    ['a\u0085', 1, 'the control character U+0085'],
    ['a\u009F', 1, 'the control character U+009F'],
    ['x\uFDD0', 1, 'the Unicode non-character U+FDD0'],
    ['x\uFDEF', 1, 'the Unicode non-character U+FDEF'],
    ['\uFFFE', 0, 'the Unicode non-character U+FFFE'],
    ['a\uFFFF', 1, 'the Unicode non-character U+FFFF'],
    ['a\u{1FFFE}', 1, 'the Unicode non-character U+1FFFE'],
    ['a\u{10FFFF}', 1, 'the Unicode non-character U+10FFFF'],
  ])('finds in %j at %i %s, which Mosquitto refuses', (s, index, description) => {
    expect(findForbiddenCharacter(s)).toEqual({ index, description });
  });

  it('accepts the characters just outside the refused ranges', () => {
    expect(findForbiddenCharacter(' ~\u00A0\uFDCF\uFDF0\uFFFD\u{1FFFD}\u{10FFFD}')).toBeNull();
  });
});

describe('byteLengthProblem', () => {
  it('names the string and counts UTF-8 bytes, not characters', () => {
    expect(byteLengthProblem('a'.repeat(65535), 'the client id')).toBeNull();
    expect(byteLengthProblem('é'.repeat(32768), 'the client id')).toBe('the client id is 65536 UTF-8 bytes long; MQTT allows at most 65535');
  });
});

describe('mqttStringProblem', () => {
  it('accepts ordinary text', () => {
    expect(mqttStringProblem('bridge-été-😀', 'the client id')).toBeNull();
  });

  it('names the refused character and its 1-based position in characters', () => {
    expect(mqttStringProblem('bad\u0000id', 'the client id')).toBe('the client id contains the NUL character (U+0000) at character 4');
    expect(mqttStringProblem('😀\u0007', 'the user name')).toBe('the user name contains the control character U+0007 at character 2');
  });

  it('refuses over-long strings before looking at characters', () => {
    expect(mqttStringProblem('\u0000'.repeat(65536), 'the client id')).toBe('the client id is 65536 UTF-8 bytes long; MQTT allows at most 65535');
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
