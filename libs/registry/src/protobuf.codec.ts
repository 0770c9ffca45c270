import * as protobuf from 'protobufjs';
import { DecodeFailedError, Document } from '@app/transform';
import { checkMessage } from './protobuf.document-check';
import { SchemaUnavailableError } from './registry.errors';
import { CodecOptions, SchemaCodec, UndeclaredFields } from './schema.codec';

export interface ProtobufCodecOptions extends CodecOptions {
  /**
   * The message type to write, fully qualified (`iot.v1.Reading`) or relative to the file's
   * package (`Reading`, `Outer.Inner`); default the file's first message, as Confluent's
   * serialiser takes it.
   */
  messageName?: string;
  /** Instead of a name: the message's path as a Confluent frame gives it (decoding). */
  messageIndexes?: readonly number[];
}

const WELL_KNOWN = /^google\/protobuf\/[a-z_]+\.proto$/;

// 64-bit integers as numbers, enums by name, every field present: what a JSON document holds.
const TO_DOCUMENT: protobuf.IConversionOptions = { enums: String, longs: Number, defaults: true, arrays: true, objects: true };

/**
 * Compiles a Protobuf schema (`.proto` text, as the registry holds it) for one message type.
 * Field names stay as written in the schema (`device_id`, not `deviceId`). Imports of the
 * well-known types (google/protobuf/timestamp.proto, ...) are served from protobufjs; other
 * imports (registry references) are not supported yet.
 * @throws SchemaUnavailableError when the schema cannot be compiled or lacks the message.
 */
export function compileProtobufSchema(schema: string, options: ProtobufCodecOptions = {}): SchemaCodec {
  const { root, fileScope } = parseSchema(schema);
  const type = options.messageIndexes ? messageAt(fileScope, options.messageIndexes) : findMessage(root, fileScope, options.messageName);
  return new ProtobufCodec(type, messageIndexes(fileScope, type), options.undeclaredFields ?? 'refuse');
}

class ProtobufCodec implements SchemaCodec {
  readonly format = 'protobuf';
  readonly recordName: string;

  constructor(
    private readonly type: protobuf.Type,
    readonly messageIndexes: readonly number[],
    private readonly undeclared: UndeclaredFields,
  ) {
    this.recordName = type.fullName.replace(/^\./, '');
  }

  encode(document: Document): Buffer {
    const problem = checkMessage(this.type, document, [], this.undeclared);
    if (problem) throw problem;
    const bytes = this.type.encode(this.type.fromObject(document as { [field: string]: unknown })).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  decode(body: Uint8Array): Document {
    let message: protobuf.Message;
    try {
      message = this.type.decode(body);
    } catch (err) {
      throw new DecodeFailedError(`payload is not a Protobuf ${this.recordName} message`, { cause: err });
    }
    return this.type.toObject(message, TO_DOCUMENT) as Document;
  }
}

function parseSchema(schema: string): { root: protobuf.Root; fileScope: protobuf.Namespace } {
  try {
    const root = new protobuf.Root();
    const parsed = protobuf.parse(schema, root, { keepCase: true });
    for (const file of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      const common = WELL_KNOWN.test(file) ? protobuf.common.get(file) : null;
      if (!common) throw new SchemaUnavailableError(`Protobuf schema imports "${file}": schemas that reference other schemas are not supported yet`);
      root.addJSON(common.nested ?? {});
    }
    root.resolveAll();
    const fileScope = parsed.package ? root.lookup(parsed.package) : root;
    if (!(fileScope instanceof protobuf.Namespace)) throw new Error(`package ${parsed.package} is not a namespace`);
    return { root, fileScope };
  } catch (err) {
    if (err instanceof SchemaUnavailableError) throw err;
    throw new SchemaUnavailableError(`Protobuf schema cannot be compiled: ${(err as Error).message}`, undefined, undefined, { cause: err });
  }
}

function findMessage(root: protobuf.Root, fileScope: protobuf.Namespace, name: string | undefined): protobuf.Type {
  if (name === undefined) {
    const first = messagesOf(fileScope)[0];
    if (!first) throw new SchemaUnavailableError('Protobuf schema declares no message');
    return first;
  }
  const found = fileScope.lookup(name) ?? root.lookup(name);
  if (!(found instanceof protobuf.Type) || !isWithin(found, fileScope)) throw new SchemaUnavailableError(`Protobuf schema declares no message ${name}`);
  return found;
}

/** The message a frame's index path names: the inverse of messageIndexes(). */
function messageAt(fileScope: protobuf.Namespace, indexes: readonly number[]): protobuf.Type {
  let scope: protobuf.Namespace = fileScope;
  for (const index of indexes) {
    const next = messagesOf(scope)[index];
    if (!next) throw new SchemaUnavailableError(`Protobuf schema has no message at index path [${indexes.join(', ')}]`);
    scope = next;
  }
  if (!(scope instanceof protobuf.Type)) throw new SchemaUnavailableError('Protobuf message index path is empty');
  return scope;
}

function messagesOf(scope: protobuf.Namespace): protobuf.Type[] {
  return scope.nestedArray.filter((nested): nested is protobuf.Type => nested instanceof protobuf.Type);
}

function isWithin(type: protobuf.Type, scope: protobuf.Namespace): boolean {
  for (let parent = type.parent; parent; parent = parent.parent) if (parent === scope) return true;
  return false;
}

/**
 * The message's path for the wire frame: its index among the file's messages, then among its
 * parent's nested messages. protoc puts a map field's generated entry type among the nested
 * messages too, and protobufjs does not: a path through a message with map fields could
 * differ from what consumers compute, so it is refused rather than guessed.
 */
function messageIndexes(fileScope: protobuf.Namespace, type: protobuf.Type): number[] {
  const indexes: number[] = [];
  for (let current: protobuf.ReflectionObject = type; current !== fileScope; current = current.parent as protobuf.Namespace) {
    const parent = current.parent as protobuf.Namespace;
    if (parent !== fileScope && parent instanceof protobuf.Type && parent.fieldsArray.some((field) => field.map)) {
      throw new SchemaUnavailableError(
        `Protobuf message ${type.fullName.replace(/^\./, '')} is nested in a message with map fields: its Confluent message index is not supported`,
      );
    }
    indexes.unshift(messagesOf(parent).indexOf(current as protobuf.Type));
  }
  return indexes;
}
