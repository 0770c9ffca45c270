import { Enum, Field, Type } from 'protobufjs';
import { Document, isDocumentObject, SchemaInvalidError } from '@app/transform';
import { UndeclaredFields, schemaInvalid } from './schema.codec';

type Path = (string | number)[];

const INT32 = [-0x80000000, 0x7fffffff] as const;
const UINT32 = [0, 0xffffffff] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Checks a document against a message type before protobufjs sees it: its `fromObject`
 * converts whatever it gets (21.5 into an int32 field becomes 21, "x" becomes 0), so a document
 * that does not fit would be written wrong instead of refused.
 * @returns the error for the first value that does not fit, undefined when all do.
 */
export function checkMessage(type: Type, value: Document, path: Path, undeclared: UndeclaredFields): SchemaInvalidError | undefined {
  if (!isDocumentObject(value)) return schemaInvalid(path, 'type', where(type));
  const oneofsSet = new Set<string>();
  for (const name of Object.keys(value)) {
    const field = type.fields[name];
    const fieldPath = [...path, name];
    if (!field) {
      if (undeclared === 'refuse') return schemaInvalid(fieldPath, 'undeclared', where(type));
      continue;
    }
    const fieldValue = value[name];
    // proto3 has no null: a null field is an unset one, as in Protobuf's JSON mapping.
    if (fieldValue === null || fieldValue === undefined) continue;
    if (field.partOf) {
      if (oneofsSet.has(field.partOf.name)) return schemaInvalid(fieldPath, 'oneof', `${where(type)} oneof ${field.partOf.name}`);
      oneofsSet.add(field.partOf.name);
    }
    const problem = checkField(field, fieldValue, fieldPath, undeclared);
    if (problem) return problem;
  }
  return undefined;
}

function checkField(field: Field, value: Document, path: Path, undeclared: UndeclaredFields): SchemaInvalidError | undefined {
  if (field.map) {
    if (!isDocumentObject(value)) return schemaInvalid(path, 'type', whereField(field));
    for (const key of Object.keys(value)) {
      if (!fitsMapKey((field as unknown as { keyType: string }).keyType, key)) return schemaInvalid([...path, key], 'type', `${whereField(field)} key`);
      const problem = checkSingle(field, value[key], [...path, key], undeclared);
      if (problem) return problem;
    }
    return undefined;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return schemaInvalid(path, 'type', whereField(field));
    for (let i = 0; i < value.length; i++) {
      const problem = checkSingle(field, value[i], [...path, i], undeclared);
      if (problem) return problem;
    }
    return undefined;
  }
  return checkSingle(field, value, path, undeclared);
}

function checkSingle(field: Field, value: Document, path: Path, undeclared: UndeclaredFields): SchemaInvalidError | undefined {
  const resolved = field.resolvedType;
  if (resolved instanceof Type) return checkMessage(resolved, value, path, undeclared);
  const fits = resolved instanceof Enum ? fitsEnum(resolved, value) : fitsScalar(field.type, value);
  return fits ? undefined : schemaInvalid(path, 'type', whereField(field));
}

function fitsEnum(type: Enum, value: Document): boolean {
  if (typeof value === 'string') return Object.prototype.hasOwnProperty.call(type.values, value);
  return typeof value === 'number' && Object.prototype.hasOwnProperty.call(type.valuesById, value);
}

function fitsScalar(scalar: string, value: Document): boolean {
  switch (scalar) {
    case 'double':
    case 'float':
      return typeof value === 'number';
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return inRange(value, INT32);
    case 'uint32':
    case 'fixed32':
      return inRange(value, UINT32);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return Number.isSafeInteger(value);
    case 'uint64':
    case 'fixed64':
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'bool':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'bytes':
      // A JSON document cannot hold bytes: base64 text, as Protobuf's JSON mapping writes them.
      return value instanceof Uint8Array || (typeof value === 'string' && BASE64.test(value));
    default:
      return false;
  }
}

function fitsMapKey(keyType: string, key: string): boolean {
  if (keyType === 'string') return true;
  if (keyType === 'bool') return key === 'true' || key === 'false';
  return /^-?\d+$/.test(key) && fitsScalar(keyType, Number(key));
}

function inRange(value: Document, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

function where(type: Type): string {
  return `protobuf ${type.fullName.replace(/^\./, '')}`;
}

function whereField(field: Field): string {
  const owner = field.parent instanceof Type ? where(field.parent) : 'protobuf';
  return `${owner}.${field.name} (${field.map ? 'map' : field.repeated ? 'repeated ' + field.type : field.type})`;
}
