import { readUint32BE, writeUint32BE } from './bytes';
import { CryptoError } from './crypto.errors';

export type EnvelopeAlgorithm = 'xchacha20poly1305' | 'sealedbox';

/** Parsed envelope header (docs/envelope.md has the byte layout). */
export interface EnvelopeHeader {
  version: 1;
  algorithm: EnvelopeAlgorithm;
  topicBound: boolean;
  keyName: string;
  keyVersion: number;
  /** 8 bytes, present exactly when `topicBound`. */
  topicTag?: Uint8Array;
  /** 24 bytes, present exactly when `algorithm` is `xchacha20poly1305`. */
  nonce?: Uint8Array;
}

/** An envelope split at the header/body boundary; `headerBytes` and `body` are views into the input. */
export interface DecodedEnvelope {
  header: EnvelopeHeader;
  headerBytes: Uint8Array;
  body: Uint8Array;
}

export const ENVELOPE_VERSION = 1;
export const KEY_NAME_MAX_LENGTH = 64;
export const MAX_KEY_VERSION = 0xffffffff;
export const TOPIC_TAG_LENGTH = 8;
export const NONCE_LENGTH = 24;
/** Smallest body each algorithm can produce (an empty plaintext): the AEAD tag, or the sealed-box overhead. */
export const MIN_BODY_LENGTH: Readonly<Record<EnvelopeAlgorithm, number>> = { xchacha20poly1305: 16, sealedbox: 48 };

const ALGORITHM_BYTE: Readonly<Record<EnvelopeAlgorithm, number>> = { xchacha20poly1305: 0x01, sealedbox: 0x02 };
const ALGORITHM_BY_BYTE: ReadonlyMap<number, EnvelopeAlgorithm> = new Map(
  Object.entries(ALGORITHM_BYTE).map(([name, byte]) => [byte, name as EnvelopeAlgorithm]),
);
const FLAG_TOPIC_BOUND = 0x01;
const FIXED_PREFIX = 4; // version, algorithm, flags, key name length
const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidKeyName(name: string): boolean {
  return KEY_NAME.test(name);
}

export function isValidKeyVersion(version: number): boolean {
  return Number.isInteger(version) && version >= 1 && version <= MAX_KEY_VERSION;
}

export function headerLength(h: Pick<EnvelopeHeader, 'algorithm' | 'topicBound' | 'keyName'>): number {
  return FIXED_PREFIX + h.keyName.length + 4 + (h.topicBound ? TOPIC_TAG_LENGTH : 0) + (h.algorithm === 'xchacha20poly1305' ? NONCE_LENGTH : 0);
}

/** Serialises a header; throws CryptoError('envelope-malformed') for a header v1 cannot express. */
export function encodeHeader(h: EnvelopeHeader): Uint8Array {
  assertEncodable(h);
  const out = new Uint8Array(headerLength(h));
  out[0] = ENVELOPE_VERSION;
  out[1] = ALGORITHM_BYTE[h.algorithm];
  out[2] = h.topicBound ? FLAG_TOPIC_BOUND : 0;
  out[3] = h.keyName.length;
  for (let i = 0; i < h.keyName.length; i++) out[FIXED_PREFIX + i] = h.keyName.charCodeAt(i);
  let offset = FIXED_PREFIX + h.keyName.length;
  writeUint32BE(out, offset, h.keyVersion);
  offset += 4;
  if (h.topicTag) {
    out.set(h.topicTag, offset);
    offset += TOPIC_TAG_LENGTH;
  }
  if (h.nonce) out.set(h.nonce, offset);
  return out;
}

/**
 * Writes a header's fields up to and including the topic tag into `out` at `offset`, with the
 * checks encodeHeader makes, but without a header object or a buffer of its own (the sealer
 * writes straight into the WebAssembly heap). Returns the offset after them: where an
 * xchacha20poly1305 header's nonce goes. `topicTag` is trusted to be 8 bytes.
 */
export function writeHeaderFields(
  out: Uint8Array,
  offset: number,
  algorithm: EnvelopeAlgorithm,
  keyName: string,
  keyVersion: number,
  topicTag: Uint8Array | undefined,
): number {
  const nameLength = keyName.length;
  if (nameLength < 1 || nameLength > KEY_NAME_MAX_LENGTH) failEncode(KEY_NAME_RULE);
  out[offset] = ENVELOPE_VERSION;
  out[offset + 1] = ALGORITHM_BYTE[algorithm];
  out[offset + 2] = topicTag ? FLAG_TOPIC_BOUND : 0;
  out[offset + 3] = nameLength;
  let at = offset + FIXED_PREFIX;
  for (let i = 0; i < nameLength; i++) {
    const code = keyName.charCodeAt(i);
    if (!isKeyNameByte(code)) failEncode(KEY_NAME_RULE);
    out[at++] = code;
  }
  if (!isValidKeyVersion(keyVersion)) failEncode(KEY_VERSION_RULE);
  writeUint32BE(out, at, keyVersion);
  at += 4;
  if (topicTag) for (let i = 0; i < TOPIC_TAG_LENGTH; i++) out[at++] = topicTag[i];
  return at;
}

const KEY_NAME_RULE = `key name must be 1..${KEY_NAME_MAX_LENGTH} characters of [A-Za-z0-9._-]`;
const KEY_VERSION_RULE = `key version must be an integer in 1..${MAX_KEY_VERSION}`;

function failEncode(detail: string): never {
  throw new CryptoError('envelope-malformed', `cannot encode header: ${detail}`);
}

function assertEncodable(h: EnvelopeHeader): void {
  const fail = (detail: string): never => {
    throw new CryptoError('envelope-malformed', `cannot encode header: ${detail}`);
  };
  if (h.version !== ENVELOPE_VERSION) fail(`unsupported version ${String(h.version)}`);
  if (!Object.hasOwn(ALGORITHM_BYTE, h.algorithm)) fail('unknown algorithm');
  if (!isValidKeyName(h.keyName)) fail(KEY_NAME_RULE);
  if (!isValidKeyVersion(h.keyVersion)) fail(KEY_VERSION_RULE);
  if (h.topicBound !== (h.topicTag !== undefined)) fail('a topic tag must be present exactly when topic-bound');
  if (h.topicTag && h.topicTag.length !== TOPIC_TAG_LENGTH) fail(`topic tag must be ${TOPIC_TAG_LENGTH} bytes`);
  const wantsNonce = h.algorithm === 'xchacha20poly1305';
  if (wantsNonce !== (h.nonce !== undefined)) fail('a nonce must be present exactly for xchacha20poly1305');
  if (h.nonce && h.nonce.length !== NONCE_LENGTH) fail(`nonce must be ${NONCE_LENGTH} bytes`);
}

/**
 * Splits and validates an envelope without any cryptography. Throws only CryptoError, whatever
 * the input. Fields are checked in wire order so a newer version is reported as such even when
 * the rest does not parse as v1.
 */
export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope {
  if (!(bytes instanceof Uint8Array)) throw malformed('envelope is not a byte array');
  need(bytes, 1, 'version');
  if (bytes[0] !== ENVELOPE_VERSION) throw new CryptoError('envelope-version', `unsupported envelope version ${bytes[0]}`);
  need(bytes, 2, 'algorithm');
  const algorithm = ALGORITHM_BY_BYTE.get(bytes[1]);
  if (!algorithm) throw new CryptoError('envelope-algorithm', `unknown algorithm 0x${hexByte(bytes[1])}`);
  need(bytes, 3, 'flags');
  const flags = bytes[2];
  if ((flags & ~FLAG_TOPIC_BOUND) !== 0) throw new CryptoError('envelope-algorithm', `reserved flag bits set (0x${hexByte(flags)})`);
  const topicBound = (flags & FLAG_TOPIC_BOUND) !== 0;
  need(bytes, FIXED_PREFIX, 'key name length');
  const nameLength = bytes[3];
  if (nameLength < 1 || nameLength > KEY_NAME_MAX_LENGTH) {
    throw malformed(`key name length ${nameLength} outside 1..${KEY_NAME_MAX_LENGTH}`);
  }
  need(bytes, FIXED_PREFIX + nameLength + 4, 'key name or version');
  const keyName = readKeyName(bytes, FIXED_PREFIX, nameLength);
  let offset = FIXED_PREFIX + nameLength;
  const keyVersion = readUint32BE(bytes, offset);
  if (keyVersion === 0) throw malformed('key version 0 is not allowed');
  offset += 4;
  const header: EnvelopeHeader = { version: ENVELOPE_VERSION, algorithm, topicBound, keyName, keyVersion };
  if (topicBound) {
    need(bytes, offset + TOPIC_TAG_LENGTH, 'topic tag');
    header.topicTag = bytes.slice(offset, offset + TOPIC_TAG_LENGTH);
    offset += TOPIC_TAG_LENGTH;
  }
  if (algorithm === 'xchacha20poly1305') {
    need(bytes, offset + NONCE_LENGTH, 'nonce');
    header.nonce = bytes.slice(offset, offset + NONCE_LENGTH);
    offset += NONCE_LENGTH;
  }
  const body = bytes.subarray(offset);
  if (body.length < MIN_BODY_LENGTH[algorithm]) {
    throw malformed(`${algorithm} body is ${body.length} bytes, need at least ${MIN_BODY_LENGTH[algorithm]}`);
  }
  return { header, headerBytes: bytes.subarray(0, offset), body };
}

function need(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length < length) throw malformed(`truncated in ${what}: ${bytes.length} bytes, need at least ${length}`);
}

/** crypto_box_PUBLICKEYBYTES: a sealed box starts with the sender's ephemeral public key. */
const SEALED_BOX_PUBLIC_KEY_LENGTH = 32;

/**
 * What makes an envelope unique: its nonce, or the sealed box's ephemeral public key. Opening
 * authenticates both, so it identifies a replayed envelope (an idempotency key for consumers).
 */
export function envelopeId(decoded: DecodedEnvelope): Uint8Array {
  return decoded.header.nonce ?? decoded.body.subarray(0, SEALED_BOX_PUBLIC_KEY_LENGTH);
}

/** The last key name decoded, kept so that a stream of envelopes under one key builds no string per message. */
const lastName = { bytes: new Uint8Array(KEY_NAME_MAX_LENGTH), length: 0, name: '' };

function readKeyName(bytes: Uint8Array, offset: number, length: number): string {
  if (length === lastName.length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (bytes[offset + i] !== lastName.bytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastName.name;
  }
  // Checked byte by byte before building a string, so arbitrary bytes never reach a message or a log.
  let name = '';
  for (let i = 0; i < length; i++) {
    const byte = bytes[offset + i];
    if (!isKeyNameByte(byte)) throw malformed('key name contains a character outside [A-Za-z0-9._-]');
    name += String.fromCharCode(byte);
  }
  lastName.bytes.set(bytes.subarray(offset, offset + length));
  lastName.length = length;
  lastName.name = name;
  return name;
}

function isKeyNameByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2e || b === 0x5f || b === 0x2d;
}

function malformed(detail: string): CryptoError {
  return new CryptoError('envelope-malformed', detail);
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}
