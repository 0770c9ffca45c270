import { CryptoError } from './crypto.errors';
import { associatedData, decodeSealedInner, encodeBindableTopic, encodeSealedInner } from './topic-binding';
import { hex } from './testing/test-keys';

const headerBytes = Uint8Array.of(1, 2, 0, 1, 0x61, 0, 0, 0, 1);
const plaintext = Uint8Array.of(9, 8, 7);

describe('topic binding layouts', () => {
  it('appends the UTF-8 topic to the header for AEAD associated data', () => {
    expect(hex(associatedData(headerBytes, encodeBindableTopic('é')))).toBe(hex(headerBytes) + 'c3a9');
    expect(associatedData(headerBytes, undefined)).toBe(headerBytes);
  });

  it('round-trips the sealed inner layout, bound and unbound', () => {
    const topic = encodeBindableTopic('a/b');
    const bound = encodeSealedInner(headerBytes, topic, plaintext);
    expect(hex(bound)).toBe(hex(headerBytes) + '0003' + '612f62' + '090807');
    const parts = decodeSealedInner(bound, headerBytes.length, true);
    expect(parts && [hex(parts.headerBytes), hex(parts.topicBytes as Uint8Array), hex(parts.plaintext)]).toEqual([hex(headerBytes), '612f62', '090807']);
    const unbound = decodeSealedInner(encodeSealedInner(headerBytes, undefined, plaintext), headerBytes.length, false);
    expect(unbound && hex(unbound.plaintext)).toBe('090807');
  });

  it('returns undefined for inner boxes too short for their declared layout', () => {
    const bound = encodeSealedInner(headerBytes, encodeBindableTopic('abc'), new Uint8Array(0));
    for (let length = 0; length < bound.length; length++) {
      expect(decodeSealedInner(bound.subarray(0, length), headerBytes.length, true)).toBeUndefined();
    }
    expect(decodeSealedInner(headerBytes.subarray(0, 3), headerBytes.length, false)).toBeUndefined();
  });

  it('refuses to bind a topic longer than 65535 UTF-8 bytes', () => {
    expect(encodeBindableTopic('x'.repeat(0xffff)).length).toBe(0xffff);
    expect(() => encodeBindableTopic('é'.repeat(0x8000))).toThrow(CryptoError);
  });
});
