import { utf8 } from './bytes';
import { CryptoError } from './crypto.errors';
import { EnvelopeSealer } from './envelope.sealer';
import { Keyring } from './keyring';
import { createPublisherCrypto, PublisherCrypto, PublisherKey } from './publisher';
import type { Sodium } from './sodium.provider';
import { readySodium, testEntries } from './testing/test-keys';

const TOPIC = 'devices/d-042/telemetry';
let sodium: Sodium;
let publisher: PublisherCrypto;
let sealer: EnvelopeSealer;
let keyring: Keyring;
let keys: PublisherKey[];

beforeAll(async () => {
  publisher = await createPublisherCrypto();
  sodium = await readySodium();
  sealer = new EnvelopeSealer(sodium);
  const entries = testEntries(sodium);
  keyring = Keyring.from(entries);
  keys = entries.flatMap((e) => e.versions.map((v) => ({ name: e.name, version: v.version, secret: v.secret, publicKey: v.publicKey })));
});

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();
const bridgeOpen = (envelope: Uint8Array) => sealer.open(envelope, { keyring, topic: TOPIC, requireTopicBinding: true });

describe('publisher crypto', () => {
  it('seals what the bridge opens, for both algorithms', () => {
    const sym = keyring.encryptionKey('sym');
    expect(text(bridgeOpen(publisher.sealSymmetric(utf8('a'), sym.secret, 'sym', sym.version, TOPIC)).plaintext)).toBe('a');
    const box = keyring.encryptionKey('box');
    expect(text(bridgeOpen(publisher.sealForPublicKey(utf8('b'), box.publicKey as Uint8Array, 'box', 1, TOPIC)).plaintext)).toBe('b');
  });

  it('opens what the bridge seals, picking the key by name and version', () => {
    for (const keyName of ['sym', 'box']) {
      const envelope = sealer.seal(utf8(keyName), { keyring, keyName, topic: TOPIC });
      const opened = publisher.open(envelope, keys, TOPIC);
      expect([text(opened.plaintext), opened.header.keyName]).toEqual([keyName, keyName]);
    }
  });

  it('applies the same checks as the bridge', () => {
    const codeOf = (run: () => unknown): string => {
      try {
        run();
        return 'ok';
      } catch (error) {
        expect(error).toBeInstanceOf(CryptoError);
        return (error as CryptoError).code;
      }
    };
    const bound = sealer.seal(utf8('x'), { keyring, keyName: 'sym', topic: TOPIC });
    const unbound = sealer.seal(utf8('x'), { keyring, keyName: 'box' });
    expect(codeOf(() => publisher.open(bound, keys, 'other/topic'))).toBe('topic-mismatch');
    expect(codeOf(() => publisher.open(bound, keys.slice(0, 1), TOPIC))).toBe('key-unknown');
    // Binding is required unless the caller says otherwise, as it is for rules.
    expect(codeOf(() => publisher.open(unbound, keys, TOPIC))).toBe('topic-unbound');
    expect(codeOf(() => publisher.open(unbound, keys, TOPIC, { requireTopicBinding: false }))).toBe('ok');
    const lax = { requireTopicBinding: false };
    const withoutPublicKeys = keys.map(({ publicKey: _, ...k }) => k);
    expect(codeOf(() => publisher.open(unbound, withoutPublicKeys, TOPIC, lax))).toBe('algorithm-mismatch');
    const wrongSecret = keys.map((k) => ({ ...k, secret: new Uint8Array(32) }));
    expect(codeOf(() => publisher.open(bound, wrongSecret, TOPIC))).toBe('decrypt-failed');
    expect(codeOf(() => publisher.open(unbound, wrongSecret, TOPIC, lax))).toBe('decrypt-failed');
    expect(
      codeOf(() =>
        publisher.open(
          bound,
          keys.map((k) => ({ ...k, secret: new Uint8Array(3) })),
          TOPIC,
        ),
      ),
    ).toBe('decrypt-failed');
  });

  it('refuses malformed key material and key names when sealing', () => {
    expect(() => publisher.sealSymmetric(utf8('x'), new Uint8Array(16), 'sym', 1)).toThrow(TypeError);
    expect(() => publisher.sealForPublicKey(utf8('x'), new Uint8Array(33), 'box', 1)).toThrow(TypeError);
    expect(() => publisher.sealSymmetric(utf8('x'), new Uint8Array(32), 'no spaces', 1)).toThrow(/envelope-malformed/);
    expect(() => publisher.sealSymmetric(utf8('x'), new Uint8Array(32), 'sym', 0)).toThrow(/envelope-malformed/);
  });
});
