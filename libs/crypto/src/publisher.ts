import { CryptoError } from './crypto.errors';
import { decodeEnvelope, envelopeId } from './envelope';
import { openWithKey, sealForPublicKey, sealSymmetric } from './envelope.cipher';
import type { OpenedEnvelope } from './envelope.sealer';
import { SodiumProvider, type Sodium } from './sodium.provider';

/** A key a device or consumer holds. With `publicKey` it is an X25519 pair (sealed), without it a symmetric key. */
export interface PublisherKey {
  name: string;
  version: number;
  secret: Uint8Array;
  publicKey?: Uint8Array;
}

export interface PublisherOpenOptions {
  /** Refuse envelopes that are not topic-bound (`topic-unbound`); default true, as for rules. Bound envelopes are always checked. */
  requireTopicBinding?: boolean;
}

/** Envelope v1 for device simulators and consumers in plain Node: no keyring, no Nest. */
export interface PublisherCrypto {
  /** XChaCha20-Poly1305 with a random nonce; binds to `topic` when given. */
  sealSymmetric(plaintext: Uint8Array, key: Uint8Array, keyName: string, keyVersion: number, topic?: string): Uint8Array;
  /** Sealed box for the holder of `publicKey`'s secret key; binds to `topic` when given. */
  sealForPublicKey(plaintext: Uint8Array, publicKey: Uint8Array, keyName: string, keyVersion: number, topic?: string): Uint8Array;
  /** Opens with the key whose name and version the envelope names; throws CryptoError. */
  open(envelope: Uint8Array, keys: readonly PublisherKey[], topic: string, options?: PublisherOpenOptions): OpenedEnvelope;
}

/** Waits for libsodium (once per process) and returns the publisher functions. */
export async function createPublisherCrypto(provider: SodiumProvider = new SodiumProvider()): Promise<PublisherCrypto> {
  return publisherCrypto(await provider.ready());
}

/** The same functions over an already-ready libsodium. */
export function publisherCrypto(sodium: Sodium): PublisherCrypto {
  return {
    sealSymmetric: (plaintext, key, keyName, keyVersion, topic) => sealSymmetric(sodium, { plaintext, key, keyName, keyVersion, topic }),
    sealForPublicKey: (plaintext, publicKey, keyName, keyVersion, topic) => sealForPublicKey(sodium, { plaintext, publicKey, keyName, keyVersion, topic }),
    open(envelope, keys, topic, options = {}) {
      const decoded = decodeEnvelope(envelope);
      const { keyName, keyVersion } = decoded.header;
      const key = keys.find((k) => k.name === keyName && k.version === keyVersion);
      if (!key) throw new CryptoError('key-unknown', 'no such key among the keys given', { keyName, keyVersion });
      const material = { ...key, type: key.publicKey ? ('sealed' as const) : ('symmetric' as const) };
      const policy = { topic, requireTopicBinding: options.requireTopicBinding ?? true };
      return { plaintext: openWithKey(sodium, decoded, material, policy), header: decoded.header, id: envelopeId(decoded) };
    },
  };
}
