import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryptoError } from '../src/crypto.errors';
import { decodeEnvelope, MIN_BODY_LENGTH } from '../src/envelope';
import { sealSymmetric } from '../src/envelope.cipher';
import { publisherCrypto, PublisherKey } from '../src/publisher';
import type { Sodium } from '../src/sodium.provider';
import { hex, readySodium, unhex } from '../src/testing/test-keys';
import type { VectorFile } from './vector-file';

const file = JSON.parse(readFileSync(join(__dirname, 'envelope-v1.json'), 'utf8')) as VectorFile;
const symmetric = file.vectors.filter((v) => v.algorithm === 'xchacha20poly1305');
const sealed = file.vectors.filter((v) => v.algorithm === 'sealedbox');

let sodium: Sodium;
let keys: PublisherKey[];
beforeAll(async () => {
  sodium = await readySodium();
  keys = file.vectors.map((v) => ({
    name: v.keyName,
    version: v.keyVersion,
    secret: unhex(v.key ?? (v.secretKey as string)),
    publicKey: v.publicKey === undefined ? undefined : unhex(v.publicKey),
  }));
});

describe('envelope-v1.json test vectors', () => {
  it('covers what a second implementation needs', () => {
    expect(file.vectors.length).toBeGreaterThanOrEqual(6);
    for (const group of [symmetric, sealed]) {
      expect(group.some((v) => v.topic === null)).toBe(true);
      expect(group.some((v) => v.topic !== null && /[^\x00-\x7f]/.test(v.topic))).toBe(true);
      expect(group.some((v) => v.plaintext === '')).toBe(true);
      expect(group.some((v) => v.keyName.length === 64)).toBe(true);
    }
    expect(new Set(file.vectors.map((v) => `${v.keyName}/${v.keyVersion}`)).size).toBe(file.vectors.length);
    const reasons = ['decrypt-failed', 'topic-mismatch', 'envelope-malformed', 'envelope-algorithm', 'envelope-version', 'key-unknown', 'algorithm-mismatch'];
    expect(new Set(file.negative.map((v) => v.expectedError))).toEqual(new Set([...reasons, 'topic-unbound']));
  });

  it('has a negative vector for each header rule and each inner check of the sealed box', () => {
    const malformed = file.negative.filter((v) => v.expectedError === 'envelope-malformed').map((v) => unhex(v.envelope));
    const nameLengths = malformed.filter((b) => b.length > 3).map((b) => b[3]);
    expect(nameLengths).toEqual(expect.arrayContaining([0, 65]));
    expect(malformed.some((b) => b.length === 0)).toBe(true);
    expect(
      malformed.some((b) => b.length > 4 && b[3] >= 1 && b[3] <= 64 && /[^A-Za-z0-9._-]/.test(Buffer.from(b.subarray(4, 4 + b[3])).toString('latin1'))),
    ).toBe(true);
    expect(malformed.some((b) => b.length >= 8 + b[3] && b[3] >= 1 && b[3] <= 64 && Buffer.from(b.subarray(4 + b[3], 8 + b[3])).readUInt32BE() === 0)).toBe(
      true,
    );
    const sealedBodies = malformed.filter((b) => b.length > 3 && b[1] === 0x02).map((b) => b.length - (8 + b[3] + (b[2] & 1 ? 8 : 0)));
    expect(sealedBodies).toContain(47);
    expect(file.negative.some((v) => v.expectedError === 'envelope-version' && v.envelope.startsWith('00'))).toBe(true);
    const mismatches = file.negative.filter((v) => v.expectedError === 'algorithm-mismatch').map((v) => v.envelope.slice(2, 4));
    expect(mismatches.sort()).toEqual(['01', '02']);
  });

  it("catches a reader that skips the sealed box's inner header and topic comparison", () => {
    // Such a reader opens the box and takes everything after the inner header and topic as plaintext.
    const lax = (v: (typeof file.negative)[number]) => {
      let decoded: ReturnType<typeof decodeEnvelope>;
      try {
        decoded = decodeEnvelope(unhex(v.envelope));
      } catch {
        return false;
      }
      const key = keys.find((k) => k.name === decoded.header.keyName && k.version === decoded.header.keyVersion);
      if (decoded.header.algorithm !== 'sealedbox' || !key?.publicKey) return false;
      const tag = sodium.crypto_generichash(8, Buffer.from(v.topic), null);
      if (decoded.header.topicBound && Buffer.compare(Buffer.from(tag), Buffer.from(decoded.header.topicTag as Uint8Array)) !== 0) return false;
      try {
        sodium.crypto_box_seal_open(decoded.body, key.publicKey, key.secret);
        return true;
      } catch {
        return false;
      }
    };
    expect(
      file.negative
        .filter(lax)
        .map((v) => v.expectedError)
        .sort(),
    ).toEqual(['decrypt-failed', 'decrypt-failed', 'topic-mismatch']);
  });

  it.each(symmetric.map((v) => [v.description, v] as const))('recomputes "%s" byte for byte', (_, v) => {
    const envelope = sealSymmetric(sodium, {
      plaintext: unhex(v.plaintext),
      key: unhex(v.key as string),
      nonce: unhex(v.nonce as string),
      keyName: v.keyName,
      keyVersion: v.keyVersion,
      topic: v.topic ?? undefined,
    });
    expect(hex(envelope)).toBe(v.envelope);
  });

  it.each(file.vectors.map((v) => [v.description, v] as const))('opens "%s" to its plaintext', (_, v) => {
    const opened = publisherCrypto(sodium).open(unhex(v.envelope), keys, v.topic ?? 'any/topic', { requireTopicBinding: v.topic !== null });
    expect(hex(opened.plaintext)).toBe(v.plaintext);
    expect(opened.header).toMatchObject({ algorithm: v.algorithm, keyName: v.keyName, keyVersion: v.keyVersion, topicBound: v.topic !== null });
    // Sealed boxes also carry the header and (when bound) the length-prefixed topic inside.
    const decoded = decodeEnvelope(unhex(v.envelope));
    const inner = v.algorithm === 'sealedbox' ? decoded.headerBytes.length + (v.topic === null ? 0 : 2 + Buffer.byteLength(v.topic)) : 0;
    expect(decoded.body.length).toBe(v.plaintext.length / 2 + inner + MIN_BODY_LENGTH[v.algorithm]);
  });

  it.each(file.negative.map((v) => [v.description, v] as const))('refuses "%s"', (_, v) => {
    let caught: unknown;
    try {
      publisherCrypto(sodium).open(unhex(v.envelope), keys, v.topic, { requireTopicBinding: v.requireTopicBinding ?? false });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CryptoError);
    expect((caught as CryptoError).code).toBe(v.expectedError);
  });
});
