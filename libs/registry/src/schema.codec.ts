import { Document, SchemaFormat, SchemaInvalidError } from '@app/transform';
import { encodeConfluentFrame } from './confluent-wire';

export { SCHEMA_FORMATS, type SchemaFormat } from '@app/transform';

/**
 * What to do with a document field that the schema does not declare: `refuse` it as
 * `schema-invalid` (the default: a typo in a field name would otherwise vanish quietly), or
 * `drop` it, as Avro's and Protobuf's own writers do.
 */
export type UndeclaredFields = 'refuse' | 'drop';

export interface CodecOptions {
  undeclaredFields?: UndeclaredFields;
}

/** A schema compiled once, turning documents into record bodies (no framing) and back. */
export interface SchemaCodec {
  readonly format: SchemaFormat;
  /** Fully-qualified record (Avro) or message (Protobuf) name, for the subject name strategies. */
  readonly recordName: string;
  /** Protobuf only: the message type's path in the schema, for the wire frame. */
  readonly messageIndexes?: readonly number[];
  /** @throws SchemaInvalidError naming the field path that does not fit. */
  encode(document: Document): Buffer;
  /** @throws DecodeFailedError when the bytes are not a record of this schema. */
  decode(body: Uint8Array): Document;
}

/** Encodes and frames a document in the Confluent wire format under `schemaId`. */
export function encodeFramed(codec: SchemaCodec, schemaId: number, document: Document): Buffer {
  const body = codec.encode(document);
  try {
    return encodeConfluentFrame(schemaId, body, codec.messageIndexes);
  } finally {
    // The body may be a decrypted payload re-encoded: only the framed copy goes on.
    body.fill(0);
  }
}

/** A JSON pointer (RFC 6901) from path segments, as SchemaInvalidError carries it. */
export function jsonPointer(path: readonly (string | number)[]): string {
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** SchemaInvalidError for a value at `path`: missing (`required`), undeclared, or of the wrong type. */
export function schemaInvalid(path: readonly (string | number)[], keyword: 'required' | 'undeclared' | 'type' | 'oneof', where: string): SchemaInvalidError {
  return new SchemaInvalidError(jsonPointer(path), keyword, where);
}
