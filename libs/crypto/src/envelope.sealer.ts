import { CryptoError } from './crypto.errors';
import { decodeEnvelope, EnvelopeHeader, envelopeId } from './envelope';
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
  /**
   * What makes this envelope unique: its nonce (xchacha20poly1305) or the sealed box's
   * ephemeral public key. Both are authenticated by the opening, so a replayed envelope has the
   * same id and a forged one does not open. A view into the input.
   */
  id: Uint8Array;
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
    const plaintext = openWithKey(this.sodium, decoded, key, options);
    return { plaintext, header: decoded.header, id: envelopeId(decoded) };
  }
}
