import { CryptoError } from './crypto.errors';
import { decodeEnvelope, EnvelopeHeader } from './envelope';
import { openWithKey, sealWithKey } from './envelope.cipher';
import type { Keyring } from './keyring';
import type { Sodium, SodiumProvider } from './sodium.provider';

export interface SealOptions {
  keyring: Keyring;
  keyName: string;
  /** Binds the envelope to this topic when given. */
  topic?: string;
}

export interface OpenOptions {
  keyring: Keyring;
  /** When set, envelopes naming any other key fail with `key-not-allowed`. */
  expectedKeyName?: string;
  /** The topic the message arrived on. */
  topic: string;
  /** Refuse envelopes that are not topic-bound (`topic-unbound`). */
  requireTopicBinding: boolean;
}

export interface OpenedEnvelope {
  plaintext: Uint8Array;
  header: EnvelopeHeader;
}

/**
 * Seals and opens v1 envelopes against a Keyring. Stateless apart from libsodium, so one
 * instance serves every rule and keyring; both operations are synchronous and throw CryptoError.
 */
export class EnvelopeSealer {
  constructor(private readonly sodium: Sodium) {}

  static async create(provider: SodiumProvider): Promise<EnvelopeSealer> {
    return new EnvelopeSealer(await provider.ready());
  }

  /** Seals with the primary version of `keyName` and a random nonce. */
  seal(plaintext: Uint8Array, options: SealOptions): Uint8Array {
    return sealWithKey(this.sodium, options.keyring.encryptionKey(options.keyName), plaintext, options.topic);
  }

  /** Order: decode, allowed key name, key lookup, algorithm vs key type, topic binding, decryption. */
  open(envelope: Uint8Array, options: OpenOptions): OpenedEnvelope {
    const decoded = decodeEnvelope(envelope);
    const { keyName, keyVersion } = decoded.header;
    if (options.expectedKeyName !== undefined && keyName !== options.expectedKeyName) {
      throw new CryptoError('key-not-allowed', `this route only accepts key "${options.expectedKeyName}"`, { keyName, keyVersion });
    }
    const key = options.keyring.decryptionKey(keyName, keyVersion);
    return { plaintext: openWithKey(this.sodium, decoded, key, options), header: decoded.header };
  }
}
