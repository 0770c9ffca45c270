// Declares the no-eval entry for builds that compile only what they import (the benchmark's worker).
/// <reference path="./cbor-x-no-eval.d.ts" />
import { Decoder, Encoder, Tag } from 'cbor-x/index-no-eval';
import { DecodeFailedError, TransformFailedError } from './transform.errors';

/**
 * How a rule reads and writes payload bytes. `raw` keeps the bytes as they are (steps can
 * then only use metadata); `text` is a UTF-8 string; `json` and `cbor` (RFC 8949) are documents.
 */
export const PAYLOAD_FORMATS = ['json', 'cbor', 'text', 'raw'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

/**
 * A decoded payload: what JSON can hold, plus byte strings (CBOR byte strings, or a raw
 * payload) as Uint8Array.
 */
export type Document = null | boolean | number | string | Uint8Array | Document[] | { [field: string]: Document };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// The no-eval build: the default one compiles record readers with `new Function` from keys
// found in the message, and message bytes come from devices the bridge does not trust.
const CBOR_OPTIONS = { useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false, useFloat32: 0 } as const;
const cborDecoder = new Decoder(CBOR_OPTIONS);
const cborEncoder = new Encoder(CBOR_OPTIONS);

/**
 * Decodes payload bytes in a rule's input format.
 * @throws DecodeFailedError naming the format and where it broke, never the bytes themselves.
 */
export function decodePayload(format: PayloadFormat, bytes: Uint8Array): Document {
  switch (format) {
    case 'raw':
      return bytes;
    case 'text':
      return utf8(bytes, 'text');
    case 'json':
      return parseJson(utf8(bytes, 'JSON'));
    case 'cbor':
      return parseCbor(bytes);
  }
}

/**
 * Encodes a document in a rule's output format.
 * @throws TransformFailedError when the document cannot be written in that format.
 */
export function encodePayload(format: PayloadFormat, document: Document): Buffer {
  switch (format) {
    case 'raw':
      // A copy: the bytes may be the message's own, which other rules still read.
      if (document instanceof Uint8Array) return Buffer.from(document);
      if (typeof document === 'string') return Buffer.from(document, 'utf8');
      throw new TransformFailedError(`output raw needs bytes or a string, the steps produced ${kindOf(document)}`);
    case 'text':
      if (typeof document === 'string') return Buffer.from(document, 'utf8');
      throw new TransformFailedError(`output text needs a string, the steps produced ${kindOf(document)}`);
    case 'json':
      return Buffer.from(stringifyJson(document), 'utf8');
    case 'cbor':
      return encodeCbor(document);
  }
}

/** A word for what a value is, for error messages that must not show the value. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new DecodeFailedError(`payload is not ${what}: it is not valid UTF-8`);
  }
}

function parseJson(text: string): Document {
  try {
    return JSON.parse(text) as Document;
  } catch (error) {
    // V8's message quotes the input around the error; only the position may be repeated.
    const position = /position (\d+)/.exec(String(error))?.[1];
    throw new DecodeFailedError(`payload is not JSON${position === undefined ? '' : ` (syntax error at byte ${position})`}`);
  }
}

function parseCbor(bytes: Uint8Array): Document {
  let decoded: unknown;
  try {
    decoded = cborDecoder.decode(bytes);
  } catch (error) {
    throw new DecodeFailedError(`payload is not CBOR${error instanceof RangeError ? ' (nested too deeply)' : ''}`);
  }
  return fromCbor(decoded, '');
}

/**
 * Brings what the CBOR decoder produced into the document model: dates as ISO strings, big
 * integers as numbers when exact, other tags by their content; anything else is refused.
 */
function fromCbor(value: unknown, pointer: string): Document {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new DecodeFailedError(`payload ${pointer || '(the document)'} is NaN or infinite, which JSON cannot hold`);
      return value;
    case 'bigint':
      if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(value);
      throw new DecodeFailedError(`payload ${pointer || '(the document)'} is an integer beyond 2^53, which would lose precision`);
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      throw new DecodeFailedError(`payload ${pointer || '(the document)'} holds a ${typeof value}`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item, i) => fromCbor(item, `${pointer}/${i}`));
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new DecodeFailedError(`payload ${pointer || '(the document)'} is an invalid date`);
    return value.toISOString();
  }
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, Number);
  if (value instanceof Tag) return fromCbor((value as Tag).value, pointer);
  if (value instanceof Map || value instanceof Set) throw new DecodeFailedError(`payload ${pointer || '(the document)'} is a map whose keys are not strings`);
  const out: { [field: string]: Document } = {};
  for (const field of Object.keys(value)) out[field] = fromCbor((value as Record<string, unknown>)[field], `${pointer}/${escapePointer(field)}`);
  return out;
}

function escapePointer(field: string): string {
  return field.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Whether plain JSON.stringify would get a value wrong: bytes, NaN or infinities, big integers. */
function needsReplacer(value: Document): boolean {
  switch (typeof value) {
    case 'number':
      return !Number.isFinite(value);
    case 'bigint':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return false;
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(needsReplacer);
  for (const field in value) if (needsReplacer(value[field])) return true;
  return false;
}

function stringifyJson(document: Document): string {
  // Without a replacer V8 serialises on its fast path; a walk costs far less than the callback
  // the replacer would get for every key and value.
  if (!needsReplacer(document)) {
    const text = JSON.stringify(document);
    if (text === undefined) throw new TransformFailedError('output json: the steps produced no document');
    return text;
  }
  let problem: string | undefined;
  const text = JSON.stringify(document, function (this: Record<string, unknown>, field: string, value: unknown) {
    // Buffer's toJSON ran already: the holder still has the original bytes.
    const original = this[field];
    if (original instanceof Uint8Array) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
    if (typeof value === 'number' && !Number.isFinite(value)) problem ??= `field "${field}" is NaN or infinite, which JSON cannot hold`;
    if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : (problem ??= `field "${field}" is an integer beyond 2^53`);
    return value;
  });
  if (problem !== undefined) throw new TransformFailedError(`output json: ${problem}`);
  if (text === undefined) throw new TransformFailedError('output json: the steps produced no document');
  return text;
}

function encodeCbor(document: Document): Buffer {
  try {
    // A copy: the encoder hands out slices of a buffer it reuses, and this one gets wiped.
    return Buffer.from(cborEncoder.encode(document));
  } catch {
    throw new TransformFailedError(`output cbor: the steps produced ${kindOf(document)} that CBOR cannot encode`);
  }
}
