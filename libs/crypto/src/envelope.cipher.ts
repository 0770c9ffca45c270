import { bytesEqual, concatBytes, utf8 } from './bytes';
import { CryptoError } from './crypto.errors';
import { DecodedEnvelope, EnvelopeAlgorithm, EnvelopeHeader, encodeHeader, NONCE_LENGTH } from './envelope';
import { KEY_BYTES } from './key-entry.rules';
import type { KeyMaterial, KeyType } from './keyring';
import type { Sodium } from './sodium.provider';
import { associatedData, decodeSealedInner, encodeBindableTopic, encodeSealedInner, MAX_BOUND_TOPIC_BYTES, topicTag } from './topic-binding';
import { NoncePool } from './nonce.pool';

/*
 * The cryptographic half of the envelope format, shared by the bridge (EnvelopeSealer) and the
 * publisher-side library. Key selection and policy (which key, revocation) stay with the callers.
 */

export const ALGORITHM_FOR_KEY_TYPE: Readonly<Record<KeyType, EnvelopeAlgorithm>> = {
  symmetric: 'xchacha20poly1305',
  sealed: 'sealedbox',
};

export interface SealParams {
  plaintext: Uint8Array;
  keyName: string;
  keyVersion: number;
  /** Binds the envelope to this topic when given (even when empty). */
  topic?: string;
}

export interface OpenPolicy {
  topic: string;
  requireTopicBinding: boolean;
}

/** `nonce` is for reproducible test vectors only: a repeated nonce under one key breaks XChaCha20-Poly1305. */
export function sealSymmetric(sodium: Sodium, params: SealParams & { key: Uint8Array; nonce?: Uint8Array }): Uint8Array {
  assertKeyLength(params.key, 'symmetric key');
  const nonce = params.nonce ?? randomNonce();
  const topicBytes = bindableTopic(params.topic);
  const headerBytes = encodeHeader(headerFor(sodium, 'xchacha20poly1305', params, topicBytes, nonce));
  const ad = associatedData(headerBytes, topicBytes);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(params.plaintext, ad, null, nonce, params.key);
  return concatBytes(headerBytes, ciphertext);
}

export function sealForPublicKey(sodium: Sodium, params: SealParams & { publicKey: Uint8Array }): Uint8Array {
  assertKeyLength(params.publicKey, 'public key');
  const topicBytes = bindableTopic(params.topic);
  const headerBytes = encodeHeader(headerFor(sodium, 'sealedbox', params, topicBytes));
  const inner = encodeSealedInner(headerBytes, topicBytes, params.plaintext);
  const box = sodium.crypto_box_seal(inner, params.publicKey);
  inner.fill(0); // a stray copy of the plaintext
  return concatBytes(headerBytes, box);
}

/** Seals with a keyring key: symmetric keys encrypt, sealed keys seal for their public key. */
export function sealWithKey(sodium: Sodium, key: KeyMaterial, plaintext: Uint8Array, topic?: string): Uint8Array {
  const params = { plaintext, keyName: key.name, keyVersion: key.version, topic };
  if (key.type === 'symmetric') return sealSymmetric(sodium, { ...params, key: key.secret });
  return sealForPublicKey(sodium, { ...params, publicKey: key.publicKey as Uint8Array });
}

/**
 * Checks algorithm, then topic, then authenticity, once the caller has picked `key` for
 * the decoded header. Every failure, libsodium's included, is a CryptoError.
 */
export function openWithKey(sodium: Sodium, decoded: DecodedEnvelope, key: KeyMaterial, policy: OpenPolicy): Uint8Array {
  const { header } = decoded;
  const who = whoOf(header);
  if (header.algorithm !== ALGORITHM_FOR_KEY_TYPE[key.type]) {
    throw new CryptoError('algorithm-mismatch', `envelope uses ${header.algorithm} but the key is ${key.type}`, who);
  }
  let topicBytes: Uint8Array | undefined;
  if (header.topicBound) {
    topicBytes = utf8(policy.topic);
    // The one length rule for both algorithms: no envelope can be bound to a longer topic.
    if (topicBytes.length > MAX_BOUND_TOPIC_BYTES) {
      throw new CryptoError('topic-mismatch', `the arrival topic is ${topicBytes.length} UTF-8 bytes, longer than any bound topic (${MAX_BOUND_TOPIC_BYTES})`, who);
    }
    if (!bytesEqual(topicTag(sodium, topicBytes), header.topicTag as Uint8Array)) {
      throw new CryptoError('topic-mismatch', 'topic tag does not match the topic the message arrived on', who);
    }
  } else if (policy.requireTopicBinding) {
    throw new CryptoError('topic-unbound', 'envelope is not bound to a topic but the rule requires it', who);
  }
  return header.algorithm === 'xchacha20poly1305'
    ? openSymmetric(sodium, decoded, key, topicBytes)
    : openSealed(sodium, decoded, key, topicBytes);
}

function openSymmetric(sodium: Sodium, decoded: DecodedEnvelope, key: KeyMaterial, topicBytes: Uint8Array | undefined): Uint8Array {
  const { header, headerBytes, body } = decoded;
  const ad = associatedData(headerBytes, topicBytes);
  return attempt(header, () =>
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, body, ad, header.nonce as Uint8Array, key.secret),
  );
}

function openSealed(sodium: Sodium, decoded: DecodedEnvelope, key: KeyMaterial, topicBytes: Uint8Array | undefined): Uint8Array {
  const { header, headerBytes, body } = decoded;
  const inner = attempt(header, () => sodium.crypto_box_seal_open(body, key.publicKey as Uint8Array, key.secret));
  try {
    const parts = decodeSealedInner(inner, headerBytes.length, header.topicBound);
    // Anyone with the public key can seal, so a mismatch means someone re-wrapped another header.
    if (!parts || !bytesEqual(parts.headerBytes, headerBytes)) {
      throw new CryptoError('decrypt-failed', 'sealed header does not match the envelope header', whoOf(header));
    }
    if (topicBytes && !bytesEqual(parts.topicBytes as Uint8Array, topicBytes)) {
      throw new CryptoError('topic-mismatch', 'sealed topic differs from the topic the message arrived on', whoOf(header));
    }
    return parts.plaintext.slice();
  } finally {
    inner.fill(0);
  }
}

function attempt(header: EnvelopeHeader, decrypt: () => Uint8Array): Uint8Array {
  try {
    return decrypt();
  } catch {
    // libsodium's own error says nothing more useful, and keeping it out guarantees no key bytes leak.
    throw new CryptoError('decrypt-failed', 'authentication failed: tampered envelope or wrong key material', whoOf(header));
  }
}

/**
 * Node's CSPRNG rather than sodium.randombytes_buf: libsodium.js reaches the very same source
 * through crypto.randomBytes(4) once per 4 bytes, which made the nonce ~20x the cost of
 * encrypting a small message; drawn from a pool, as one call per message still cost more than
 * libsodium's encryption itself. A 192-bit random nonce needs no counter or state.
 */
const nonces = new NoncePool(NONCE_LENGTH);

function randomNonce(): Uint8Array {
  return nonces.next();
}

function headerFor(
  sodium: Sodium,
  algorithm: EnvelopeAlgorithm,
  params: SealParams,
  topicBytes: Uint8Array | undefined,
  nonce?: Uint8Array,
): EnvelopeHeader {
  return {
    version: 1,
    algorithm,
    topicBound: topicBytes !== undefined,
    keyName: params.keyName,
    keyVersion: params.keyVersion,
    topicTag: topicBytes && topicTag(sodium, topicBytes),
    nonce,
  };
}

function bindableTopic(topic: string | undefined): Uint8Array | undefined {
  return topic === undefined ? undefined : encodeBindableTopic(topic);
}

function whoOf(header: EnvelopeHeader): { keyName: string; keyVersion: number } {
  return { keyName: header.keyName, keyVersion: header.keyVersion };
}

function assertKeyLength(key: Uint8Array, what: string): void {
  // A caller bug, not a property of a message: a plain TypeError, before any bytes are produced.
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new TypeError(`${what} must be ${KEY_BYTES} bytes`);
}
