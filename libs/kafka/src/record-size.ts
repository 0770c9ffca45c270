import { DestinationRejectedError } from '@app/core';
import { KafkaRecord } from './kafka.writer';

/** Close to what the broker counts against message.max.bytes: value, key, headers and record overhead. */
export function recordSize(record: KafkaRecord): number {
  let size = 70 + record.value.length + (record.key ? Buffer.byteLength(record.key) : 0);
  const headers = record.headers;
  // for-in, not Object.entries: this runs once per record, and the entries arrays were garbage.
  for (const name in headers) {
    size += Buffer.byteLength(name) + 8;
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) size += headerValueLength(v);
    else size += headerValueLength(value);
  }
  return size;
}

function headerValueLength(value: string | Buffer | undefined): number {
  return value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** The error for a record of `size` (recordSize) over `maxMessageBytes`, refused before it is sent; undefined when it fits. */
export function oversize(size: number, maxMessageBytes: number): DestinationRejectedError | undefined {
  if (size <= maxMessageBytes) return undefined;
  return new DestinationRejectedError(`record of ${size} bytes exceeds kafka.producer.maxMessageBytes (${maxMessageBytes})`, 'record-too-large');
}
