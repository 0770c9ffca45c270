import { concatBytes, readUint16BE, utf8, writeUint16BE } from './bytes';
import { CryptoError } from './crypto.errors';
import { TOPIC_TAG_LENGTH } from './envelope';
import type { Sodium } from './sodium.provider';

/**
 * Longest topic an envelope can be bound to, with either algorithm: the sealed-box inner layout
 * stores the length in 16 bits, as MQTT does, and one rule keeps the two algorithms alike.
 */
export const MAX_BOUND_TOPIC_BYTES = 0xffff;

/** BLAKE2b-64 of the UTF-8 topic: lets a receiver refuse a misrouted envelope before any decryption. */
export function topicTag(sodium: Sodium, topicBytes: Uint8Array): Uint8Array {
  return sodium.crypto_generichash(TOPIC_TAG_LENGTH, topicBytes, null);
}

export function encodeBindableTopic(topic: string): Uint8Array {
  const bytes = utf8(topic);
  if (bytes.length > MAX_BOUND_TOPIC_BYTES) {
    throw new CryptoError('envelope-malformed', `topic is ${bytes.length} UTF-8 bytes, at most ${MAX_BOUND_TOPIC_BYTES} can be bound`);
  }
  return bytes;
}

/** AEAD associated data: the whole header, then the topic when bound. */
export function associatedData(headerBytes: Uint8Array, topicBytes: Uint8Array | undefined): Uint8Array {
  return topicBytes ? concatBytes(headerBytes, topicBytes) : headerBytes;
}

/**
 * Sealed boxes carry no associated data, so the header and topic travel inside the box and are
 * compared after opening: header || [uint16 BE topic length || topic] || plaintext.
 */
export function encodeSealedInner(headerBytes: Uint8Array, topicBytes: Uint8Array | undefined, plaintext: Uint8Array): Uint8Array {
  if (!topicBytes) return concatBytes(headerBytes, plaintext);
  const length = new Uint8Array(2);
  writeUint16BE(length, 0, topicBytes.length);
  return concatBytes(headerBytes, length, topicBytes, plaintext);
}

export interface SealedInner {
  headerBytes: Uint8Array;
  topicBytes?: Uint8Array;
  plaintext: Uint8Array;
}

/** Splits an opened sealed box; `undefined` when it is too short for the declared layout. */
export function decodeSealedInner(inner: Uint8Array, headerLength: number, topicBound: boolean): SealedInner | undefined {
  if (inner.length < headerLength) return undefined;
  const headerBytes = inner.subarray(0, headerLength);
  if (!topicBound) return { headerBytes, plaintext: inner.subarray(headerLength) };
  if (inner.length < headerLength + 2) return undefined;
  const topicEnd = headerLength + 2 + readUint16BE(inner, headerLength);
  if (inner.length < topicEnd) return undefined;
  return { headerBytes, topicBytes: inner.subarray(headerLength + 2, topicEnd), plaintext: inner.subarray(topicEnd) };
}
