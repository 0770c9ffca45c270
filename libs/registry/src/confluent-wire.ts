import { DecodeFailedError } from '@app/transform';

/*
 * The Confluent wire format that Kafka's standard (de)serialisers read and write:
 *
 *   byte 0      magic byte 0
 *   bytes 1-4   schema id, 32-bit big-endian, as the registry assigned it
 *   Protobuf only: the message indexes, the path from the .proto file to the message type
 *               (index among top-level messages, then among nested ones), as zigzag varints:
 *               the count, then each index; the common path [0] is written as a single 0
 *   the rest    the Avro or Protobuf binary encoding of the record
 */

export const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/** A record taken apart: the schema id, the Protobuf message indexes, and the encoded body. */
export interface ConfluentFrame {
  readonly schemaId: number;
  /** Protobuf only: the message type's path in its schema; [0] is the file's first message. */
  readonly messageIndexes?: readonly number[];
  /** A view on the input bytes, not a copy. */
  readonly body: Buffer;
}

/** Frames an encoded record. `messageIndexes` is given for Protobuf and only then. */
export function encodeConfluentFrame(schemaId: number, body: Uint8Array, messageIndexes?: readonly number[]): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) throw new RangeError(`schema id ${schemaId} does not fit 4 bytes`);
  const indexes = messageIndexes === undefined ? [] : encodeMessageIndexes(messageIndexes);
  const out = Buffer.allocUnsafe(HEADER_BYTES + indexes.length + body.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  for (let i = 0; i < indexes.length; i++) out[HEADER_BYTES + i] = indexes[i];
  out.set(body, HEADER_BYTES + indexes.length);
  return out;
}

/**
 * Takes a framed record apart; `protobuf` says whether message indexes follow the id (the frame
 * itself does not tell).
 * @throws DecodeFailedError when the bytes are not in the Confluent wire format.
 */
export function decodeConfluentFrame(bytes: Uint8Array, protobuf: boolean): ConfluentFrame {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < HEADER_BYTES)
    throw new DecodeFailedError(`payload is not in the Confluent wire format: ${buffer.length} bytes, the header alone is ${HEADER_BYTES}`);
  if (buffer[0] !== MAGIC_BYTE) throw new DecodeFailedError(`payload is not in the Confluent wire format: magic byte ${buffer[0]}, expected ${MAGIC_BYTE}`);
  const schemaId = buffer.readUInt32BE(1);
  if (!protobuf) return { schemaId, body: buffer.subarray(HEADER_BYTES) };
  const reader = { buffer, offset: HEADER_BYTES };
  const count = readZigzagVarint(reader);
  if (count < 0 || count > buffer.length) throw new DecodeFailedError(`payload's Protobuf message index count ${count} is impossible`);
  const messageIndexes = count === 0 ? [0] : Array.from({ length: count }, () => readZigzagVarint(reader));
  if (messageIndexes.some((index) => index < 0)) throw new DecodeFailedError('payload has a negative Protobuf message index');
  return { schemaId, messageIndexes, body: buffer.subarray(reader.offset) };
}

function encodeMessageIndexes(indexes: readonly number[]): number[] {
  if (indexes.length === 0) throw new RangeError('a Protobuf message index path cannot be empty');
  if (indexes.length === 1 && indexes[0] === 0) return [0];
  const out: number[] = [];
  for (const value of [indexes.length, ...indexes]) {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`Protobuf message index ${value} is not a 32-bit index`);
    writeZigzagVarint(out, value);
  }
  return out;
}

// Confluent's ByteUtils.writeVarint: zigzag over 32 bits, then 7 bits a byte, low first.
function writeZigzagVarint(out: number[], value: number): void {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

function readZigzagVarint(reader: { buffer: Buffer; offset: number }): number {
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (reader.offset >= reader.buffer.length) throw new DecodeFailedError('payload ends inside its Protobuf message indexes');
    const byte = reader.buffer[reader.offset++];
    raw |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
  }
  throw new DecodeFailedError('payload has a Protobuf message index varint longer than 5 bytes');
}
