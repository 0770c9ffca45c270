import { bytesEqual, concatBytes } from './bytes';
import { CryptoError } from './crypto.errors';
import { DecodedEnvelope, EnvelopeAlgorithm, EnvelopeHeader, encodeHeader, NONCE_LENGTH } from './envelope';
import { KEY_BYTES } from './key-entry.rules';
import type { KeyMaterial, KeyType } from './keyring';
import type { Sodium } from './sodium.provider';
import { associatedData, decodeSealedInner, encodeSealedInner, MAX_BOUND_TOPIC_BYTES } from './topic-binding';
import { envelopeNonces } from './nonce.pool';
import { BoundTopic, TopicTagCache } from './topic-tag.cache';
import { WasmEnvelopeAead } from './envelope.wasm';

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
  return sealSymmetricWith(sodium, params.key, params.plaintext, params.keyName, params.keyVersion, params.topic, params.nonce);
}

/** sealSymmetric without a parameter object: the bridge's per-message path. */
function sealSymmetricWith(
  sodium: Sodium,
  key: Uint8Array,
  plaintext: Uint8Array,
  keyName: string,
  keyVersion: number,
  topicName: string | undefined,
  explicitNonce: Uint8Array | undefined,
): Uint8Array {
  assertKeyLength(key, 'symmetric key');
  const context = cipherContext(sodium);
  const topic = bindableTopic(context, topicName);
  if (explicitNonce !== undefined && explicitNonce.length !== NONCE_LENGTH) {
    throw new CryptoError('envelope-malformed', `cannot encode header: nonce must be ${NONCE_LENGTH} bytes`);
  }
  if (context.wasm) return context.wasm.seal(key, plaintext, keyName, keyVersion, topic, explicitNonce);
  // Through libsodium-wrappers' own API: the same bytes, with more copies.
  const nonce = explicitNonce ?? envelopeNonces.next();
  const headerBytes = encodeHeader(headerFor('xchacha20poly1305', { plaintext, keyName, keyVersion }, topic, nonce));
  const ad = associatedData(headerBytes, topic?.bytes);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
  return concatBytes(headerBytes, ciphertext);
}

export function sealForPublicKey(sodium: Sodium, params: SealParams & { publicKey: Uint8Array }): Uint8Array {
  assertKeyLength(params.publicKey, 'public key');
  const topic = bindableTopic(cipherContext(sodium), params.topic);
  const headerBytes = encodeHeader(headerFor('sealedbox', params, topic));
  const inner = encodeSealedInner(headerBytes, topic?.bytes, params.plaintext);
  const box = sodium.crypto_box_seal(inner, params.publicKey);
  inner.fill(0); // a stray copy of the plaintext
  return concatBytes(headerBytes, box);
}

/** Seals with a keyring key: symmetric keys encrypt, sealed keys seal for their public key. */
export function sealWithKey(sodium: Sodium, key: KeyMaterial, plaintext: Uint8Array, topic?: string): Uint8Array {
  if (key.type === 'symmetric') return sealSymmetricWith(sodium, key.secret, plaintext, key.name, key.version, topic, undefined);
  return sealForPublicKey(sodium, { plaintext, keyName: key.name, keyVersion: key.version, topic, publicKey: key.publicKey as Uint8Array });
}

/**
 * Checks algorithm, then topic, then authenticity, once the caller has picked `key` for
 * the decoded header. Every failure, libsodium's included, is a CryptoError.
 */
export function openWithKey(sodium: Sodium, decoded: DecodedEnvelope, key: KeyMaterial, policy: OpenPolicy): Uint8Array {
  const { header } = decoded;
  if (header.algorithm !== ALGORITHM_FOR_KEY_TYPE[key.type]) {
    throw new CryptoError('algorithm-mismatch', `envelope uses ${header.algorithm} but the key is ${key.type}`, whoOf(header));
  }
  const context = cipherContext(sodium);
  let topicBytes: Uint8Array | undefined;
  if (header.topicBound) {
    const topic = context.topics.get(policy.topic);
    topicBytes = topic.bytes;
    // The one length rule for both algorithms: no envelope can be bound to a longer topic.
    if (topicBytes.length > MAX_BOUND_TOPIC_BYTES) {
      throw new CryptoError(
        'topic-mismatch',
        `the arrival topic is ${topicBytes.length} UTF-8 bytes, longer than any bound topic (${MAX_BOUND_TOPIC_BYTES})`,
        whoOf(header),
      );
    }
    if (!bytesEqual(topic.tag, header.topicTag as Uint8Array)) {
      throw new CryptoError('topic-mismatch', 'topic tag does not match the topic the message arrived on', whoOf(header));
    }
  } else if (policy.requireTopicBinding) {
    throw new CryptoError('topic-unbound', 'envelope is not bound to a topic but the rule requires it', whoOf(header));
  }
  return header.algorithm === 'xchacha20poly1305' ? openSymmetric(sodium, context, decoded, key, topicBytes) : openSealed(sodium, decoded, key, topicBytes);
}

function openSymmetric(sodium: Sodium, context: CipherContext, decoded: DecodedEnvelope, key: KeyMaterial, topicBytes: Uint8Array | undefined): Uint8Array {
  const { header, headerBytes, body } = decoded;
  if (context.wasm) {
    // A key of the wrong length fails like any other wrong key, as libsodium's refusal did.
    const plaintext = key.secret.length === KEY_BYTES ? context.wasm.open(key.secret, headerBytes, body, topicBytes) : undefined;
    if (!plaintext) throw decryptFailed(header);
    return plaintext;
  }
  const ad = associatedData(headerBytes, topicBytes);
  return attempt(header, () => sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, body, ad, header.nonce as Uint8Array, key.secret));
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
    throw decryptFailed(header);
  }
}

function decryptFailed(header: EnvelopeHeader): CryptoError {
  return new CryptoError('decrypt-failed', 'authentication failed: tampered envelope or wrong key material', whoOf(header));
}

/*
 * Nonces come from envelopeNonces (nonce.pool.ts): Node's CSPRNG rather than
 * sodium.randombytes_buf, which reaches the very same source through crypto.randomBytes(4) once
 * per 4 bytes (~20x the cost of encrypting a small message), and drawn from a pool, as one call
 * per message still cost more than libsodium's encryption itself.
 */

/** What the cipher keeps per libsodium instance: topic tags, and the in-heap AEAD when it passed its self-test. */
interface CipherContext {
  readonly topics: TopicTagCache;
  readonly wasm: WasmEnvelopeAead | undefined;
}

const contexts = new WeakMap<Sodium, CipherContext>();
let lastSodium: Sodium | undefined;
let lastContext: CipherContext | undefined;

function cipherContext(sodium: Sodium): CipherContext {
  if (sodium === lastSodium) return lastContext as CipherContext;
  let context = contexts.get(sodium);
  if (!context) {
    context = { topics: new TopicTagCache(sodium), wasm: WasmEnvelopeAead.for(sodium) };
    contexts.set(sodium, context);
  }
  lastSodium = sodium;
  lastContext = context;
  return context;
}

function headerFor(algorithm: EnvelopeAlgorithm, params: SealParams, topic: BoundTopic | undefined, nonce?: Uint8Array): EnvelopeHeader {
  return {
    version: 1,
    algorithm,
    topicBound: topic !== undefined,
    keyName: params.keyName,
    keyVersion: params.keyVersion,
    topicTag: topic?.tag,
    nonce,
  };
}

function bindableTopic(context: CipherContext, topic: string | undefined): BoundTopic | undefined {
  if (topic === undefined) return undefined;
  const bound = context.topics.get(topic);
  if (bound.bytes.length > MAX_BOUND_TOPIC_BYTES) {
    throw new CryptoError('envelope-malformed', `topic is ${bound.bytes.length} UTF-8 bytes, at most ${MAX_BOUND_TOPIC_BYTES} can be bound`);
  }
  return bound;
}

function whoOf(header: EnvelopeHeader): { keyName: string; keyVersion: number } {
  return { keyName: header.keyName, keyVersion: header.keyVersion };
}

function assertKeyLength(key: Uint8Array, what: string): void {
  // A caller bug, not a property of a message: a plain TypeError, before any bytes are produced.
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new TypeError(`${what} must be ${KEY_BYTES} bytes`);
}
