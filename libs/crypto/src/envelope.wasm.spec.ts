import { randomBytes } from 'node:crypto';
import { decodeEnvelope } from './envelope';
import { sealSymmetric } from './envelope.cipher';
import { WasmEnvelopeAead } from './envelope.wasm';
import { publisherCrypto } from './publisher';
import type { Sodium } from './sodium.provider';
import { fixedBytes, hex, readySodium } from './testing/test-keys';

let sodium: Sodium;
/** The same libsodium seen without its raw module: the cipher falls back to libsodium-wrappers' API. */
let wrappersOnly: Sodium;

beforeAll(async () => {
  sodium = await readySodium();
  wrappersOnly = Object.create(sodium, { libsodium: { value: undefined } }) as Sodium;
});

const heapOf = (s: Sodium): Uint8Array => (s as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;

describe('WasmEnvelopeAead', () => {
  it('is used for the real libsodium and not without its raw module', () => {
    expect(WasmEnvelopeAead.for(sodium)).toBeDefined();
    expect(WasmEnvelopeAead.for(wrappersOnly)).toBeUndefined();
  });

  it.each([0, 1, 255, 256, 5000, 70_000])('seals a %i-byte payload to the same bytes as libsodium-wrappers, bound and unbound', (size) => {
    const key = fixedBytes(3);
    const nonce = fixedBytes(5, 24);
    const plaintext = fixedBytes(11, size);
    for (const topic of ['site/7/line/3/telemetry', '', 'é/ü/☃', undefined]) {
      const params = { plaintext, key, keyName: 'device-key.v_1', keyVersion: 0xfffffffe, topic, nonce };
      const fast = sealSymmetric(sodium, params);
      expect(hex(fast)).toBe(hex(sealSymmetric(wrappersOnly, params)));
      // and each path opens what the other sealed
      const keys = [{ name: 'device-key.v_1', version: 0xfffffffe, secret: key }];
      const options = { requireTopicBinding: false };
      expect(hex(publisherCrypto(wrappersOnly).open(fast, keys, topic ?? 'any', options).plaintext)).toBe(hex(plaintext));
      expect(hex(publisherCrypto(sodium).open(fast, keys, topic ?? 'any', options).plaintext)).toBe(hex(plaintext));
    }
  });

  it('returns envelopes that later seals never overwrite, and plaintexts with an ArrayBuffer of their own', () => {
    const crypto = publisherCrypto(sodium);
    const key = fixedBytes(4);
    const keys = [{ name: 'k', version: 1, secret: key }];
    const sealed = Array.from({ length: 3000 }, (_, i) => {
      const plaintext = fixedBytes(i, (i * 37) % 700);
      return { plaintext, envelope: crypto.sealSymmetric(plaintext, key, 'k', 1, `t/${i % 50}`) };
    });
    sealed.forEach(({ plaintext, envelope }, i) => {
      const opened = crypto.open(envelope, keys, `t/${i % 50}`);
      expect(hex(opened.plaintext)).toBe(hex(plaintext));
      expect(opened.plaintext.buffer.byteLength).toBe(plaintext.length);
    });
  });

  it('leaves neither the key nor the plaintext in the WebAssembly heap', () => {
    const crypto = publisherCrypto(sodium);
    const key = new Uint8Array(randomBytes(32));
    const plaintext = new Uint8Array(randomBytes(300));
    const envelope = crypto.sealSymmetric(plaintext, key, 'k', 1, 'a/b');
    const opened = crypto.open(envelope, [{ name: 'k', version: 1, secret: key }], 'a/b');
    expect(hex(opened.plaintext)).toBe(hex(plaintext));
    const heap = Buffer.from(heapOf(sodium).buffer);
    expect(heap.indexOf(Buffer.from(key))).toBe(-1);
    expect(heap.indexOf(Buffer.from(plaintext.subarray(0, 64)))).toBe(-1);
    // the search does find what is there: the header stays (it is public associated data)
    expect(heap.indexOf(Buffer.from(decodeEnvelope(envelope).headerBytes))).not.toBe(-1);
  });

  it('refuses a tampered envelope or a wrong key without returning plaintext', () => {
    const crypto = publisherCrypto(sodium);
    const key = fixedBytes(8);
    const envelope = crypto.sealSymmetric(fixedBytes(1, 100), key, 'k', 1, 'a/b');
    const tampered = envelope.slice();
    tampered[tampered.length - 1] ^= 1;
    expect(() => crypto.open(tampered, [{ name: 'k', version: 1, secret: key }], 'a/b')).toThrow(/decrypt-failed/);
    expect(() => crypto.open(envelope, [{ name: 'k', version: 1, secret: fixedBytes(9) }], 'a/b')).toThrow(/decrypt-failed/);
    expect(() => crypto.open(envelope, [{ name: 'k', version: 1, secret: fixedBytes(9, 16) }], 'a/b')).toThrow(/decrypt-failed/);
  });
});
