import { Schema, Type, types } from 'avsc';
import { DecodeFailedError, Document, isDocumentObject } from '@app/transform';
import { SchemaUnavailableError } from './registry.errors';
import { CodecOptions, SchemaCodec, schemaInvalid } from './schema.codec';

type AvroPath = readonly string[];

/**
 * Compiles an Avro schema (its JSON text, as the registry holds it, or the parsed JSON).
 * Unions of types that a JSON document can tell apart (`["null","string"]`) take the bare
 * value; others (`["int","long"]`) take Avro's JSON form `{"long": 5}`, both ways.
 * @throws SchemaUnavailableError when the schema is not valid Avro.
 */
export function compileAvroSchema(schema: string | object, options: CodecOptions = {}): SchemaCodec {
  let type: Type;
  try {
    type = Type.forSchema((typeof schema === 'string' ? JSON.parse(schema) : schema) as Schema, { wrapUnions: 'auto' });
  } catch (err) {
    throw new SchemaUnavailableError(`Avro schema cannot be compiled: ${(err as Error).message}`, undefined, undefined, { cause: err });
  }
  return new AvroCodec(type, options.undeclaredFields ?? 'refuse');
}

class AvroCodec implements SchemaCodec {
  readonly format = 'avro';
  readonly recordName: string;

  constructor(
    private readonly type: Type,
    private readonly undeclared: 'refuse' | 'drop',
  ) {
    this.recordName = type.name ?? type.typeName;
  }

  encode(document: Document): Buffer {
    const value = toAvro(document);
    let failure: { path: AvroPath; type: Type } | undefined;
    const valid = this.type.isValid(value, {
      noUndeclaredFields: this.undeclared === 'refuse',
      errorHook: (path: string[], _value: unknown, type: Type) => (failure ??= { path, type }),
    });
    if (!valid) throw this.invalid(value, failure);
    // A field the schema lacks is skipped by the writer: 'drop' needs nothing more.
    return this.type.toBuffer(value);
  }

  decode(body: Uint8Array): Document {
    let value: unknown;
    try {
      value = this.type.fromBuffer(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    } catch (err) {
      // avsc's messages name positions, not values; still, say only what failed.
      throw new DecodeFailedError(`payload is not an Avro ${this.recordName} record`, { cause: err });
    }
    return fromAvro(value);
  }

  private invalid(value: unknown, failure: { path: AvroPath; type: Type } | undefined) {
    const path = failure?.path ?? [];
    const type = failure?.type ?? this.type;
    const at = valueAt(value, path);
    if (at === undefined) return schemaInvalid(path, 'required', `avro ${label(type)}`);
    // avsc blames the record for a field it lacks or has too many of: name the field.
    if (type.typeName === 'record' && isDocumentObject(at as Document)) {
      const fields = (type as types.RecordType).fields;
      const record = at as Record<string, unknown>;
      const missing = fields.find((field) => record[field.name] === undefined && field.defaultValue() === undefined);
      if (missing) return schemaInvalid([...path, missing.name], 'required', `avro ${label(type)}`);
      const declared = new Set(fields.map((field) => field.name));
      const extra = Object.keys(record).find((name) => !declared.has(name));
      if (extra !== undefined && this.undeclared === 'refuse') return schemaInvalid([...path, extra], 'undeclared', `avro ${label(type)}`);
    }
    return schemaInvalid(path, 'type', `avro ${label(type)}`);
  }
}

function label(type: Type): string {
  return type.name ? `${type.typeName} ${type.name}` : type.typeName;
}

function valueAt(value: unknown, path: AvroPath): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

// avsc wants Buffers for bytes and fixed; documents carry Uint8Array (CBOR byte strings).
function toAvro(document: Document): unknown {
  if (document instanceof Uint8Array) return Buffer.isBuffer(document) ? document : Buffer.from(document.buffer, document.byteOffset, document.byteLength);
  if (Array.isArray(document)) return document.map(toAvro);
  if (isDocumentObject(document)) {
    const out: Record<string, unknown> = {};
    for (const field of Object.keys(document)) out[field] = toAvro(document[field]);
    return out;
  }
  return document;
}

// Records come back as instances of avsc's generated classes: plain objects from here on.
function fromAvro(value: unknown): Document {
  if (value === null || typeof value !== 'object') return value as Document;
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(fromAvro);
  const out: { [field: string]: Document } = {};
  for (const field of Object.keys(value)) out[field] = fromAvro((value as Record<string, unknown>)[field]);
  return out;
}
