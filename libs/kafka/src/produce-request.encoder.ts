import { crc32c } from './crc32c';

type Bytes = Buffer | string | null | undefined;

/** One record as kafkajs hands it to its Produce request. */
export interface ProduceMessage {
  readonly key?: Bytes;
  readonly value: Bytes;
  readonly headers?: Readonly<Record<string, Bytes | ReadonlyArray<Buffer | string>>>;
  readonly timestamp?: unknown;
}

/** kafkajs's Long (a BigInt in `value`), a number or a decimal string. */
export type ProducerId = { readonly value: bigint } | number | string | bigint;

/** The arguments kafkajs gives its Produce request, versions 3 to 7 (same body, magic 2 record batches). */
export interface ProduceRequestData {
  readonly acks: number;
  readonly timeout: number;
  readonly transactionalId?: string | null;
  readonly producerId?: ProducerId;
  readonly producerEpoch?: number;
  readonly topicData: ReadonlyArray<{
    readonly topic: string;
    readonly partitions: ReadonlyArray<{ readonly partition: number; readonly firstSequence?: number; readonly messages: readonly ProduceMessage[] }>;
  }>;
}

/** Bytes of a record batch before its records: base offset to record count. */
const BATCH_HEADER = 61;
/** Where the CRC starts and what it covers from, relative to the batch. */
const CRC_AT = 17;
const CRC_FROM = 21;
const TRANSACTIONAL = 16;

/**
 * The body of a Produce request (v3 to v7) with uncompressed record batches, written into one
 * buffer sized in a first pass. kafkajs builds the same bytes from an encoder per record and per
 * header, each a fresh zero-filled buffer, copied again at every level of nesting: on the bridge's
 * 256-byte records that was the largest share of its CPU and garbage. Byte for byte what kafkajs
 * 2.2.4 writes for records without timestamps (the spec compares them); undefined for records
 * with a timestamp, which kafkajs orders in its own way, so the caller lets kafkajs encode those.
 */
export function encodeProduceRequest(request: ProduceRequestData, now: number): Buffer | undefined {
  // First pass: every string's byte length and every record's body length, in writing order.
  const lengths: number[] = [];
  const transactionalId = request.transactionalId ?? null;
  let size = 2 + (transactionalId === null ? 0 : remember(lengths, Buffer.byteLength(transactionalId))) + 2 + 4 + 4;
  for (const { topic, partitions } of request.topicData) {
    size += 2 + remember(lengths, Buffer.byteLength(topic)) + 4;
    for (const { messages } of partitions) {
      size += 8 + BATCH_HEADER;
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        if (message.timestamp !== undefined && message.timestamp !== null) return undefined;
        const slot = lengths.push(0) - 1;
        // Attributes and the timestamp delta (always 0 here) take a byte each.
        let body = 2 + varintSize(i) + bytesSize(lengths, message.key) + bytesSize(lengths, message.value);
        body += headersSize(lengths, message.headers);
        lengths[slot] = body;
        size += varintSize(body) + body;
      }
    }
  }

  const out = Buffer.allocUnsafe(size);
  const next = { length: 0 };
  let at = writeNullableString(out, 0, transactionalId, lengths, next);
  out.writeInt16BE(request.acks, at);
  out.writeInt32BE(request.timeout, at + 2);
  out.writeInt32BE(request.topicData.length, at + 6);
  at += 10;
  const producerId = producerIdOf(request.producerId);
  for (const { topic, partitions } of request.topicData) {
    at = writeNullableString(out, at, topic, lengths, next);
    out.writeInt32BE(partitions.length, at);
    at += 4;
    for (const { partition, firstSequence, messages } of partitions) {
      out.writeInt32BE(partition, at);
      const batch = at + 8;
      at = batch + BATCH_HEADER;
      for (let i = 0; i < messages.length; i++) at = writeRecord(out, at, messages[i], i, lengths, next);
      const batchSize = at - batch;
      out.writeInt32BE(batchSize, batch - 4);
      out.writeBigInt64BE(0n, batch);
      out.writeInt32BE(batchSize - 12, batch + 8);
      out.writeInt32BE(0, batch + 12);
      out.writeInt8(2, batch + 16);
      // As kafkajs: an empty id is written but does not mark the batch transactional.
      out.writeInt16BE(transactionalId ? TRANSACTIONAL : 0, batch + CRC_FROM);
      out.writeInt32BE(messages.length - 1, batch + 23);
      writeInt64(out, batch + 27, now);
      writeInt64(out, batch + 35, now);
      out.writeBigInt64BE(producerId, batch + 43);
      out.writeInt16BE(request.producerEpoch ?? 0, batch + 51);
      out.writeInt32BE(firstSequence ?? 0, batch + 53);
      out.writeInt32BE(messages.length, batch + 57);
      out.writeUInt32BE(crc32c(out, batch + CRC_FROM, at), batch + CRC_AT);
    }
  }
  return out;
}

function remember(lengths: number[], length: number): number {
  lengths.push(length);
  return length;
}

function bytesSize(lengths: number[], value: Bytes): number {
  if (value === null || value === undefined) return 1;
  const length = Buffer.isBuffer(value) ? value.length : remember(lengths, Buffer.byteLength(String(value)));
  return varintSize(length) + length;
}

/** Also remembers the header count, so the second pass need not count again. */
function headersSize(lengths: number[], headers: ProduceMessage['headers']): number {
  const slot = lengths.push(0) - 1;
  let count = 0;
  let size = 0;
  for (const name in headers) {
    const value = ownHeader(headers, name);
    if (value === undefined) continue;
    const nameLength = remember(lengths, Buffer.byteLength(name));
    const nameSize = varintSize(nameLength) + nameLength;
    if (Array.isArray(value)) {
      for (const v of value) size += nameSize + bytesSize(lengths, v);
      count += value.length;
    } else {
      size += nameSize + bytesSize(lengths, value as Bytes);
      count++;
    }
  }
  lengths[slot] = count;
  return varintSize(count) + size;
}

/** A header's value, undefined for inherited names (kafkajs takes own names only) and absent values; for-in, not Object.keys: no array per record. */
function ownHeader(headers: NonNullable<ProduceMessage['headers']>, name: string): Bytes | ReadonlyArray<Buffer | string> {
  return Object.prototype.hasOwnProperty.call(headers, name) ? headers[name] : undefined;
}

function writeRecord(out: Buffer, at: number, message: ProduceMessage, offsetDelta: number, lengths: number[], next: { length: number }): number {
  at = writeVarint(out, at, lengths[next.length++]);
  out[at++] = 0; // attributes
  out[at++] = 0; // timestamp delta
  at = writeVarint(out, at, offsetDelta);
  at = writeBytes(out, at, message.key, lengths, next);
  at = writeBytes(out, at, message.value, lengths, next);
  const headers = message.headers;
  at = writeVarint(out, at, lengths[next.length++]);
  for (const name in headers) {
    const value = ownHeader(headers, name);
    if (value === undefined) continue;
    const nameLength = lengths[next.length++];
    if (Array.isArray(value)) for (const v of value) at = writeHeader(out, at, name, nameLength, v, lengths, next);
    else at = writeHeader(out, at, name, nameLength, value as Bytes, lengths, next);
  }
  return at;
}

function writeHeader(out: Buffer, at: number, name: string, nameLength: number, value: Bytes, lengths: number[], next: { length: number }): number {
  at = writeVarint(out, at, nameLength);
  at += out.write(name, at, nameLength, 'utf8');
  return writeBytes(out, at, value, lengths, next);
}

function writeBytes(out: Buffer, at: number, value: Bytes, lengths: number[], next: { length: number }): number {
  if (value === null || value === undefined) return writeVarint(out, at, -1);
  if (Buffer.isBuffer(value)) {
    at = writeVarint(out, at, value.length);
    return at + value.copy(out, at);
  }
  const length = lengths[next.length++];
  at = writeVarint(out, at, length);
  return at + out.write(String(value), at, length, 'utf8');
}

/** Kafka's int16-length string (the topic, the transactional id); null as length -1. */
function writeNullableString(out: Buffer, at: number, value: string | null, lengths: number[], next: { length: number }): number {
  if (value === null) {
    out.writeInt16BE(-1, at);
    return at + 2;
  }
  const length = lengths[next.length++];
  out.writeInt16BE(length, at);
  return at + 2 + out.write(value, at + 2, length, 'utf8');
}

/** A zigzag varint, as Kafka's records write lengths and deltas. */
export function writeVarint(out: Buffer, at: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at++] = v;
  return at;
}

export function varintSize(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (v >= 0x80) {
    size++;
    v >>>= 7;
  }
  return size;
}

function writeInt64(out: Buffer, at: number, value: number): void {
  out.writeInt32BE(Math.floor(value / 0x100000000), at);
  out.writeUInt32BE(value >>> 0, at + 4);
}

function producerIdOf(id: ProducerId | undefined): bigint {
  if (id === undefined) return -1n;
  if (typeof id === 'object') return id.value;
  return BigInt(id);
}
