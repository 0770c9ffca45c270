import { randomBytes } from 'node:crypto';
import { decodeStrictUtf8, firstInvalidUtf8 } from './strict-utf8';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('decodeStrictUtf8', () => {
  it('decodes UTF-8 text, keeping a leading BOM as readFileSync did', () => {
    expect(decodeStrictUtf8(bytes('clientId: capteur-été-😀\n'))).toEqual({ text: 'clientId: capteur-été-😀\n' });
    expect(decodeStrictUtf8(bytes([0xef, 0xbb, 0xbf], 'a: 1'))).toEqual({ text: '\uFEFFa: 1' });
  });

  it('locates a Latin-1 byte instead of substituting U+FFFD', () => {
    const text = bytes('mqtt:\n  url: mqtt://127.0.0.1:1883\n  clientId: caf', [0xe9], '\n');
    expect(decodeStrictUtf8(text)).toEqual({ invalid: { offset: 50, byte: 0xe9, line: 3, column: 16 } });
  });

  it('counts the column in UTF-16 units of the valid start of the line, like the YAML positions', () => {
    expect(decodeStrictUtf8(bytes('a\nété😀', [0xff]))).toEqual({ invalid: { offset: 11, byte: 0xff, line: 2, column: 6 } });
  });

  it('reports a byte at the very start at line 1, column 1', () => {
    expect(decodeStrictUtf8(bytes([0x80], 'abc'))).toEqual({ invalid: { offset: 0, byte: 0x80, line: 1, column: 1 } });
  });
});

describe('firstInvalidUtf8', () => {
  it.each([
    ['a stray continuation byte', [0x61, 0x80], 1],
    ['C0 and C1, which only start overlong forms', [0xc1, 0xbf], 0],
    ['an overlong 3-byte form', [0xe0, 0x80, 0xaf], 0],
    ['a UTF-16 surrogate', [0x61, 0xed, 0xa0, 0x80], 1],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['F5, which starts nothing', [0xf5, 0x80, 0x80, 0x80], 0],
    ['a sequence cut by a newline', [0xe2, 0x82, 0x0a], 0],
    ['a sequence cut by the end', [0x61, 0x62, 0xf0, 0x9f, 0x98], 2],
  ])('finds %s', (_what, input, offset) => {
    expect(firstInvalidUtf8(Uint8Array.from(input))).toBe(offset);
  });

  it('accepts the extremes of every sequence length', () => {
    expect(firstInvalidUtf8(bytes('\u0000\u007f\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}'))).toBe(-1);
  });

  it('agrees with a fatal TextDecoder on random bytes, and the bytes before the offset decode', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    for (let round = 0; round < 2000; round++) {
      // Mostly text with some high bytes, so that valid multi-byte sequences occur too.
      const input = Uint8Array.from(randomBytes(24), (b) => (b < 0xa0 ? b & 0x7f : b));
      const offset = firstInvalidUtf8(input);
      let valid = true;
      try {
        fatal.decode(input);
      } catch {
        valid = false;
      }
      expect(offset === -1).toBe(valid);
      if (offset !== -1) expect(() => fatal.decode(input.subarray(0, offset))).not.toThrow();
    }
  });
});
