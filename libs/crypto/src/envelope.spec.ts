import { CryptoError, CryptoReason } from './crypto.errors';
import { decodeEnvelope, encodeHeader, EnvelopeHeader, headerLength, MIN_BODY_LENGTH } from './envelope';
import { fixedBytes, hex } from './testing/test-keys';

const tag = fixedBytes(1, 8);
const nonce = fixedBytes(2, 24);

function header(overrides: Partial<EnvelopeHeader> = {}): EnvelopeHeader {
  return { version: 1, algorithm: 'xchacha20poly1305', topicBound: true, keyName: 'k1', keyVersion: 7, topicTag: tag, nonce, ...overrides };
}

function envelope(h: EnvelopeHeader, bodyLength = MIN_BODY_LENGTH[h.algorithm]): Uint8Array {
  const head = encodeHeader(h);
  const out = new Uint8Array(head.length + bodyLength);
  out.set(head);
  out.fill(0xab, head.length);
  return out;
}

function reasonOf(run: () => unknown): CryptoReason | 'no error' {
  try {
    run();
    return 'no error';
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    return error.code;
  }
}

describe('encodeHeader', () => {
  it('lays out every field as documented', () => {
    const bytes = encodeHeader(header({ keyName: 'ab', keyVersion: 0x01020304 }));
    expect(hex(bytes)).toBe('010101' + '02' + '6162' + '01020304' + hex(tag) + hex(nonce));
  });

  it('omits the topic tag when unbound and the nonce for sealed boxes', () => {
    const bytes = encodeHeader(header({ algorithm: 'sealedbox', topicBound: false, topicTag: undefined, nonce: undefined }));
    expect(hex(bytes)).toBe('010200' + '02' + '6b31' + '00000007');
    expect(bytes.length).toBe(headerLength({ algorithm: 'sealedbox', topicBound: false, keyName: 'k1' }));
  });

  it.each<[string, Partial<EnvelopeHeader>]>([
    ['empty key name', { keyName: '' }],
    ['65-character key name', { keyName: 'a'.repeat(65) }],
    ['key name with a slash', { keyName: 'a/b' }],
    ['non-ASCII key name', { keyName: 'clé' }],
    ['key version 0', { keyVersion: 0 }],
    ['key version 2^32', { keyVersion: 2 ** 32 }],
    ['fractional key version', { keyVersion: 1.5 }],
    ['bound without a tag', { topicTag: undefined }],
    ['a tag while unbound', { topicBound: false }],
    ['short tag', { topicTag: fixedBytes(1, 7) }],
    ['xchacha without a nonce', { nonce: undefined }],
    ['short nonce', { nonce: fixedBytes(2, 23) }],
    ['sealed box with a nonce', { algorithm: 'sealedbox' }],
    ['unknown algorithm', { algorithm: 'toString' as never }],
    ['version 2', { version: 2 as never }],
  ])('refuses %s', (_, overrides) => {
    expect(reasonOf(() => encodeHeader(header(overrides)))).toBe('envelope-malformed');
  });
});

describe('decodeEnvelope', () => {
  it.each<[string, Partial<EnvelopeHeader>]>([
    ['xchacha, bound', {}],
    ['xchacha, unbound', { topicBound: false, topicTag: undefined }],
    ['sealed, bound', { algorithm: 'sealedbox', nonce: undefined }],
    ['sealed, unbound', { algorithm: 'sealedbox', nonce: undefined, topicBound: false, topicTag: undefined }],
    ['64-character key name, largest version', { keyName: 'A-z.0_9'.repeat(9) + 'x', keyVersion: 0xffffffff }],
  ])('round-trips %s', (_, overrides) => {
    const h = header(overrides);
    const bytes = envelope(h, 20 + MIN_BODY_LENGTH[h.algorithm]);
    const decoded = decodeEnvelope(bytes);
    const expected: Partial<EnvelopeHeader> = { ...h };
    if (!h.topicTag) delete expected.topicTag;
    if (!h.nonce) delete expected.nonce;
    expect(decoded.header).toEqual(expected);
    expect(hex(decoded.headerBytes)).toBe(hex(encodeHeader(h)));
    expect(decoded.body.length).toBe(20 + MIN_BODY_LENGTH[h.algorithm]);
    expect(decoded.body.every((b) => b === 0xab)).toBe(true);
  });

  it('accepts a Buffer and bodies of exactly the minimum length', () => {
    for (const algorithm of ['xchacha20poly1305', 'sealedbox'] as const) {
      const h = header({ algorithm, nonce: algorithm === 'sealedbox' ? undefined : nonce });
      expect(decodeEnvelope(Buffer.from(envelope(h))).body.length).toBe(MIN_BODY_LENGTH[algorithm]);
    }
  });

  it('reports every truncation as malformed', () => {
    for (const h of [header(), header({ algorithm: 'sealedbox', nonce: undefined })]) {
      const full = envelope(h);
      for (let length = 0; length < full.length; length++) {
        expect([length, reasonOf(() => decodeEnvelope(full.subarray(0, length)))]).toEqual([length, 'envelope-malformed']);
      }
    }
  });

  it('reports an unknown version before anything else, even truncated', () => {
    expect(reasonOf(() => decodeEnvelope(Uint8Array.of(0x02)))).toBe('envelope-version');
    expect(reasonOf(() => decodeEnvelope(Uint8Array.of(0x00, 0x01, 0x00)))).toBe('envelope-version');
    const v2 = envelope(header());
    v2[0] = 0x02;
    expect(reasonOf(() => decodeEnvelope(v2))).toBe('envelope-version');
  });

  it.each([0x00, 0x03, 0x7f, 0xff])('reports algorithm byte 0x%s as envelope-algorithm', (byte) => {
    const bytes = envelope(header());
    bytes[1] = byte;
    expect(reasonOf(() => decodeEnvelope(bytes))).toBe('envelope-algorithm');
  });

  it.each([0x02, 0x04, 0x80, 0xff, 0x03])('reports reserved flag bits 0x%s as envelope-algorithm', (flags) => {
    const bytes = envelope(header());
    bytes[2] = flags;
    expect(reasonOf(() => decodeEnvelope(bytes))).toBe('envelope-algorithm');
  });

  it.each([
    ['key name length 0', (b: Uint8Array) => (b[3] = 0)],
    ['key name length 65', (b: Uint8Array) => (b[3] = 65)],
    ['a slash in the key name', (b: Uint8Array) => (b[4] = 0x2f)],
    ['a NUL in the key name', (b: Uint8Array) => (b[5] = 0x00)],
    ['a high byte in the key name', (b: Uint8Array) => (b[4] = 0xc3)],
    ['key version 0', (b: Uint8Array) => b.fill(0, 6, 10)],
  ])('reports %s as malformed', (_, corrupt) => {
    const bytes = envelope(header());
    corrupt(bytes);
    expect(reasonOf(() => decodeEnvelope(bytes))).toBe('envelope-malformed');
  });

  it('reports a body shorter than the algorithm minimum as malformed', () => {
    expect(reasonOf(() => decodeEnvelope(envelope(header(), 15)))).toBe('envelope-malformed');
    expect(reasonOf(() => decodeEnvelope(envelope(header({ algorithm: 'sealedbox', nonce: undefined }), 47)))).toBe('envelope-malformed');
  });

  it('reports non-byte input as malformed instead of a TypeError', () => {
    for (const input of [null, undefined, 'envelope', [1, 1, 0], 42, {}]) {
      expect(reasonOf(() => decodeEnvelope(input as never))).toBe('envelope-malformed');
    }
  });

  it('never quotes envelope bytes in its messages', () => {
    const bytes = envelope(header(), 15);
    expect(() => decodeEnvelope(bytes)).toThrow(/body is 15 bytes/);
    try {
      decodeEnvelope(bytes);
    } catch (error) {
      expect((error as Error).message).not.toContain(hex(nonce));
    }
  });
});
