import { utf8 } from './bytes';
import { CryptoError, CryptoReason } from './crypto.errors';
import { decodeEnvelope, encodeHeader, EnvelopeHeader } from './envelope';
import { EnvelopeSealer, OpenOptions } from './envelope.sealer';
import * as cryptoLib from './index';
import { revokeKeyVersion, rotateKeyEntry, setMinDecryptionVersion } from './key-lifecycle';
import { KeyEntry, Keyring } from './keyring';
import type { Sodium } from './sodium.provider';
import { encodeSealedInner, topicTag } from './topic-binding';
import { fixedBytes, hex, readySodium, symmetricVersion, testEntries } from './testing/test-keys';

const TOPIC = 'plant/1/temp';
let sodium: Sodium;
let sealer: EnvelopeSealer;
let entries: KeyEntry[];
let keyring: Keyring;

beforeAll(async () => {
  sodium = await readySodium();
  sealer = new EnvelopeSealer(sodium);
  entries = testEntries(sodium);
  keyring = Keyring.from(entries);
});

function options(overrides: Partial<OpenOptions> = {}): OpenOptions {
  return { keyring, topic: TOPIC, requireTopicBinding: false, ...overrides };
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

describe('EnvelopeSealer', () => {
  describe.each(['sym', 'box'])('key "%s"', (keyName) => {
    it.each([0, 1, 1000])('round-trips a %i-byte payload, bound and unbound', (size) => {
      const plaintext = fixedBytes(9, size);
      for (const topic of [TOPIC, undefined]) {
        const envelope = sealer.seal(plaintext, { keyring, keyName, topic });
        const opened = sealer.open(envelope, options({ requireTopicBinding: topic !== undefined }));
        expect(hex(opened.plaintext)).toBe(hex(plaintext));
        expect(opened.header).toMatchObject({ keyName, keyVersion: keyName === 'sym' ? 2 : 1, topicBound: topic !== undefined });
        expect(sealer.open(Buffer.from(envelope), options()).plaintext.length).toBe(size);
      }
    });

    it('never produces the same envelope twice', () => {
      const plaintext = utf8('same');
      expect(hex(sealer.seal(plaintext, { keyring, keyName, topic: TOPIC }))).not.toBe(hex(sealer.seal(plaintext, { keyring, keyName, topic: TOPIC })));
    });

    it('refuses a bound envelope on another topic, and an unbound one where binding is required', () => {
      const bound = sealer.seal(utf8('x'), { keyring, keyName, topic: TOPIC });
      expect(reasonOf(() => sealer.open(bound, options({ topic: 'plant/2/temp' })))).toBe('topic-mismatch');
      const unbound = sealer.seal(utf8('x'), { keyring, keyName });
      expect(reasonOf(() => sealer.open(unbound, options({ requireTopicBinding: true })))).toBe('topic-unbound');
      expect(sealer.open(unbound, options({ topic: 'anything' })).header.topicBound).toBe(false);
    });

    it('throws a CryptoError for every flipped bit pattern at every byte position', () => {
      const plaintext = utf8('secret-reading');
      const envelope = sealer.seal(plaintext, { keyring, keyName, topic: TOPIC });
      const secret = hex(keyring.decryptionKey(keyName, keyName === 'sym' ? 2 : 1).secret);
      const reasons = new Set<string>();
      let attempts = 0;
      for (let position = 0; position < envelope.length; position++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const tampered = envelope.slice();
          tampered[position] ^= mask;
          attempts++;
          let caught: unknown;
          try {
            sealer.open(tampered, options());
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(CryptoError);
          const message = (caught as CryptoError).message;
          expect(message).not.toContain(secret);
          expect(message).not.toContain('secret-reading');
          reasons.add((caught as CryptoError).code);
        }
      }
      expect(attempts).toBe(envelope.length * 3);
      expect(reasons).toContain('decrypt-failed');
      expect(reasons).toContain('topic-mismatch');
    });
  });

  it('seals with the primary version and a fresh random nonce', () => {
    const a = decodeEnvelope(sealer.seal(utf8('x'), { keyring, keyName: 'sym' }));
    const b = decodeEnvelope(sealer.seal(utf8('x'), { keyring, keyName: 'sym' }));
    expect(a.header.keyVersion).toBe(2);
    expect(hex(a.header.nonce as Uint8Array)).not.toBe(hex(b.header.nonce as Uint8Array));
  });

  it('reports unknown key names and versions', () => {
    expect(reasonOf(() => sealer.seal(utf8('x'), { keyring, keyName: 'nope' }))).toBe('key-unknown');
    const other = Keyring.from([{ ...entries[0], name: 'other' }]);
    const foreign = sealer.seal(utf8('x'), { keyring: other, keyName: 'other' });
    expect(reasonOf(() => sealer.open(foreign, options()))).toBe('key-unknown');
    const v3 = Keyring.from([{ ...entries[0], primaryVersion: 3, versions: [...entries[0].versions, symmetricVersion(3)] }]);
    expect(reasonOf(() => sealer.open(sealer.seal(utf8('x'), { keyring: v3, keyName: 'sym' }), options()))).toBe('key-unknown');
  });

  it('refuses revoked versions and versions below the minimum decryption version', () => {
    const envelope = sealer.seal(utf8('x'), { keyring, keyName: 'sym' });
    const revoked = Keyring.from([revokeKeyVersion(entries[0], 2)]);
    expect(reasonOf(() => sealer.open(envelope, options({ keyring: revoked })))).toBe('key-revoked');
    expect(reasonOf(() => sealer.seal(utf8('x'), { keyring: revoked, keyName: 'sym' }))).toBe('key-revoked');
    const v1 = sealer.seal(utf8('x'), { keyring: Keyring.from([{ ...entries[0], primaryVersion: 1 }]), keyName: 'sym' });
    expect(sealer.open(v1, options()).header.keyVersion).toBe(1);
    const raised = Keyring.from([setMinDecryptionVersion(entries[0], 2)]);
    expect(reasonOf(() => sealer.open(v1, options({ keyring: raised })))).toBe('key-revoked');
    expect(sealer.open(envelope, options({ keyring: raised })).header.keyVersion).toBe(2);
  });

  it.each([0, 1])('keeps opening old envelopes after a rotation until the old version is revoked (entry %i)', (index) => {
    const original = { ...entries[index], primaryVersion: 1, versions: entries[index].versions.filter((v) => v.version === 1) };
    const before = Keyring.from([original]);
    const old = sealer.seal(utf8('old'), { keyring: before, keyName: original.name, topic: TOPIC });
    const rotatedEntry = rotateKeyEntry(sodium, original);
    const rotated = Keyring.from([rotatedEntry]);
    before.wipe();
    expect(Buffer.from(sealer.open(old, options({ keyring: rotated })).plaintext).toString()).toBe('old');
    const fresh = sealer.seal(utf8('new'), { keyring: rotated, keyName: original.name, topic: TOPIC });
    expect(decodeEnvelope(fresh).header.keyVersion).toBe(2);
    const revoked = Keyring.from([revokeKeyVersion(rotatedEntry, 1)]);
    expect(reasonOf(() => sealer.open(old, options({ keyring: revoked })))).toBe('key-revoked');
    expect(Buffer.from(sealer.open(fresh, options({ keyring: revoked })).plaintext).toString()).toBe('new');
  });

  it('refuses envelopes naming a key other than the expected one', () => {
    const envelope = sealer.seal(utf8('x'), { keyring, keyName: 'sym' });
    expect(reasonOf(() => sealer.open(envelope, options({ expectedKeyName: 'box' })))).toBe('key-not-allowed');
    expect(sealer.open(envelope, options({ expectedKeyName: 'sym' })).header.keyName).toBe('sym');
  });

  it('holds both algorithms to one topic length: sealing refuses a topic over 65535 UTF-8 bytes, opening on one is topic-mismatch', () => {
    const long = 'é'.repeat(0x8000); // 65536 bytes
    for (const keyName of ['sym', 'box']) expect(reasonOf(() => sealer.seal(utf8('x'), { keyring, keyName, topic: long }))).toBe('envelope-malformed');
    // What another implementation might produce without the rule: a symmetric envelope bound to that topic.
    const key = keyring.encryptionKey('sym');
    const header = encodeHeader({
      version: 1,
      algorithm: 'xchacha20poly1305',
      topicBound: true,
      keyName: 'sym',
      keyVersion: key.version,
      topicTag: topicTag(sodium, utf8(long)),
      nonce: fixedBytes(7, 24),
    });
    const body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(utf8('x'), Uint8Array.from([...header, ...utf8(long)]), null, fixedBytes(7, 24), key.secret);
    expect(reasonOf(() => sealer.open(Uint8Array.from([...header, ...body]), options({ topic: long })))).toBe('topic-mismatch');
  });

  it('refuses an envelope whose algorithm does not match the key type', () => {
    const envelope = sealer.seal(utf8('x'), { keyring, keyName: 'box' });
    const confused = Keyring.from([{ ...entries[0], name: 'box', primaryVersion: 1, versions: [symmetricVersion(1)] }]);
    expect(reasonOf(() => sealer.open(envelope, options({ keyring: confused })))).toBe('algorithm-mismatch');
  });

  describe('sealed-box header and topic binding', () => {
    const publicKey = (): Uint8Array => keyring.encryptionKey('box').publicKey as Uint8Array;

    function forge(outer: EnvelopeHeader, inner: EnvelopeHeader, innerTopic: string | undefined): Uint8Array {
      const topicBytes = innerTopic === undefined ? undefined : utf8(innerTopic);
      const box = sodium.crypto_box_seal(encodeSealedInner(encodeHeader(inner), topicBytes, utf8('forged')), publicKey());
      return Uint8Array.from([...encodeHeader(outer), ...box]);
    }

    const bound = (topic: string): EnvelopeHeader => ({
      version: 1,
      algorithm: 'sealedbox',
      topicBound: true,
      keyName: 'box',
      keyVersion: 1,
      topicTag: topicTag(sodium, utf8(topic)),
    });

    it('opens a hand-built envelope that follows the layout', () => {
      expect(Buffer.from(sealer.open(forge(bound(TOPIC), bound(TOPIC), TOPIC), options()).plaintext).toString()).toBe('forged');
    });

    it('detects an outer header swapped around another sealed header', () => {
      const unbound: EnvelopeHeader = { ...bound(TOPIC), topicBound: false, topicTag: undefined };
      expect(reasonOf(() => sealer.open(forge(bound(TOPIC), unbound, undefined), options()))).toBe('decrypt-failed');
      expect(reasonOf(() => sealer.open(forge(bound(TOPIC), { ...bound(TOPIC), keyName: 'sym' }, TOPIC), options()))).toBe('decrypt-failed');
    });

    it('detects an inner topic that differs from the tagged one', () => {
      expect(reasonOf(() => sealer.open(forge(bound(TOPIC), bound(TOPIC), 'plant/2/temp'), options()))).toBe('topic-mismatch');
    });
  });

  it('offers no way to choose a nonce: the public API cannot repeat one', () => {
    expect('sealWithNonce' in sealer).toBe(false);
    expect(Object.keys(cryptoLib)).not.toEqual(expect.arrayContaining(['sealWithNonce', 'sealSymmetric', 'sealWithKey']));
  });

  it('stops serving keys once the keyring is wiped', () => {
    const own = Keyring.from(entries);
    const envelope = sealer.seal(utf8('x'), { keyring: own, keyName: 'sym' });
    own.wipe();
    expect(reasonOf(() => sealer.open(envelope, options({ keyring: own })))).toBe('key-unknown');
    expect(reasonOf(() => sealer.seal(utf8('x'), { keyring: own, keyName: 'sym' }))).toBe('key-unknown');
  });
});
