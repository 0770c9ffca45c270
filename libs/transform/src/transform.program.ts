import { decodePayload, Document, encodePayload, kindOf, PayloadFormat } from './payload-format';
import { FieldPath, isDocumentObject, removeField, setField } from './field-path';
import { DocumentValidator } from './json-schema.validator';
import { CompiledExpression } from './expression';
import { TransformFailedError } from './transform.errors';

/**
 * What expressions may read besides `payload`, the same names for MQTT and Kafka sources
 * (documented in docs/transforms.md). Built once per message and rule by the caller.
 */
export interface MessageFacts {
  /** MQTT topic, or the Kafka topic for fromKafka rules. */
  readonly topic: string;
  readonly levels: readonly string[];
  readonly captures: Readonly<Record<string, string>>;
  readonly qos: number;
  readonly retain: boolean;
  readonly rule: string;
  readonly clientId: string;
  /** Wall-clock time of receipt, milliseconds since the epoch. */
  readonly receivedAt: number;
  /** MQTT 5 properties (contentType, responseTopic, userProperties...); empty for MQTT 3.1.1. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** The Kafka record's key (fromKafka rules), else null. */
  readonly key: string | null;
  /** The Kafka record's headers (fromKafka rules), else empty. */
  readonly headers: Readonly<Record<string, string>>;
}

const CEL_QOS: readonly bigint[] = [0n, 1n, 2n];

/** One compiled step; `label` names it in errors, e.g. `steps[2].enrich.tempF`. */
export type CompiledStep =
  | { readonly kind: 'validate'; readonly label: string; readonly validator: DocumentValidator }
  | { readonly kind: 'filter'; readonly label: string; readonly expression: CompiledExpression }
  | { readonly kind: 'map-whole'; readonly label: string; readonly expression: CompiledExpression }
  | { readonly kind: 'map' | 'enrich'; readonly label: string; readonly fields: ReadonlyArray<readonly [FieldPath, CompiledExpression, string]> }
  | { readonly kind: 'rename'; readonly label: string; readonly moves: ReadonlyArray<readonly [FieldPath, FieldPath]> }
  | { readonly kind: 'drop'; readonly label: string; readonly paths: readonly FieldPath[] };

/** Top-level renames that can be done in one copy: no target is also a source (no chains). */
function topLevelRenames(moves: ReadonlyArray<readonly [FieldPath, FieldPath]>): ReadonlyMap<string, string> | undefined {
  if (!moves.every(([from, to]) => from.length === 1 && to.length === 1)) return undefined;
  const renames = new Map(moves.map(([from, to]) => [from[0], to[0]]));
  return [...renames.values()].some((to) => renames.has(to)) ? undefined : renames;
}

/**
 * Where a program's documents come from and go to: a payload format it decodes or encodes
 * itself, or `document` when the caller does (schema formats, which may need the registry).
 */
export type ProgramFormat = PayloadFormat | 'document';

/** What a rule's processing made of one payload. */
export type TransformResult =
  | { readonly kind: 'filtered'; /** Label of the filter step that dropped it. */ readonly by: string }
  | {
      readonly kind: 'emit';
      /** The bytes to seal or write: the input itself when nothing changed it. */
      readonly bytes: Buffer;
      /** The document after the steps, for `{payload.PATH}` templates. */
      readonly document: Document;
      /** False when `bytes` is the input unchanged (it must not be wiped twice). */
      readonly reencoded: boolean;
    }
  | {
      /** Output `document`: the caller encodes it. */
      readonly kind: 'document';
      readonly document: Document;
    };

/**
 * A rule's processing, compiled once at validation and run per message: decode, steps in
 * order, encode. Throws DecodeFailedError, SchemaInvalidError or TransformFailedError; nothing
 * partial ever comes out.
 */
export class TransformProgram {
  private readonly mutates: boolean;
  /** Per step index: its top-level renames or drops done by copying (see copyWithout). */
  private readonly renames: ReadonlyArray<ReadonlyMap<string, string> | undefined>;
  private readonly drops: ReadonlyArray<ReadonlySet<string> | undefined>;

  constructor(
    readonly input: ProgramFormat,
    readonly output: ProgramFormat,
    readonly steps: readonly CompiledStep[],
  ) {
    this.mutates = input !== output || steps.some((s) => s.kind !== 'validate' && s.kind !== 'filter');
    this.renames = steps.map((s) => (s.kind === 'rename' ? topLevelRenames(s.moves) : undefined));
    this.drops = steps.map((s) => (s.kind === 'drop' && s.paths.every((p) => p.length === 1) ? new Set(s.paths.map((p) => p[0])) : undefined));
  }

  /** Decodes `bytes` in the input format, then runs the steps. */
  run(bytes: Buffer, facts: MessageFacts): TransformResult {
    if (this.input === 'document') throw new TypeError('this program takes decoded documents: call runDecoded');
    return this.apply(decodePayload(this.input, bytes), bytes, facts);
  }

  /** Runs the steps on a document the caller decoded (input `document`). */
  runDecoded(document: Document, facts: MessageFacts): TransformResult {
    if (this.input !== 'document') throw new TypeError(`this program decodes ${this.input} itself: call run`);
    return this.apply(document, undefined, facts);
  }

  private apply(document: Document, bytes: Buffer | undefined, facts: MessageFacts): TransformResult {
    // One literal, not a spread of facts: this object is built per message. CEL's int is a
    // BigInt and its timestamp a Date: the variables must have those types.
    const vars: Record<string, unknown> = {
      payload: document,
      topic: facts.topic,
      levels: facts.levels,
      captures: facts.captures,
      qos: CEL_QOS[facts.qos] ?? BigInt(facts.qos),
      retain: facts.retain,
      rule: facts.rule,
      clientId: facts.clientId,
      receivedAt: new Date(facts.receivedAt),
      properties: facts.properties,
      key: facts.key,
      headers: facts.headers,
    };
    for (let index = 0; index < this.steps.length; index++) {
      const step = this.steps[index];
      switch (step.kind) {
        case 'validate':
          step.validator.check(document);
          break;
        case 'filter': {
          const keep = evaluate(step.label, step.expression, vars);
          if (typeof keep !== 'boolean') throw new TransformFailedError(`${step.label}: a filter must give true or false, it gave ${kindOf(keep)}`);
          if (!keep) return { kind: 'filtered', by: step.label };
          break;
        }
        case 'map-whole':
          document = toDocument(step.label, evaluate(step.label, step.expression, vars));
          break;
        case 'map':
        case 'enrich': {
          // Every field sees the document as the step found it, whatever the order of the fields.
          const values = step.fields.map(([path, expression, label]) => [path, toDocument(label, evaluate(label, expression, vars)), label] as const);
          let target: Document;
          if (step.kind === 'map') {
            target = {};
          } else {
            if (!isDocumentObject(document)) throw new TransformFailedError(`${step.label}: enrich needs an object document, it is ${kindOf(document)}`);
            target = document;
          }
          for (const [path, value, label] of values) {
            if (!setField(target, path, value)) throw new TransformFailedError(`${label}: a parent of the field is not an object`);
          }
          document = target;
          break;
        }
        case 'rename': {
          if (!isDocumentObject(document)) throw new TransformFailedError(`${step.label}: rename needs an object document, it is ${kindOf(document)}`);
          const renames = this.renames[index];
          if (renames) {
            document = renamed(document, renames);
            break;
          }
          for (const [from, to] of step.moves) {
            const value = removeField(document, from);
            if (value !== undefined && !setField(document, to, value)) {
              throw new TransformFailedError(`${step.label}: cannot move ${from.join('.')} to ${to.join('.')}, a parent of the target is not an object`);
            }
          }
          break;
        }
        case 'drop': {
          const drops = this.drops[index];
          if (drops && isDocumentObject(document)) document = copyWithout(document, drops);
          else for (const path of step.paths) removeField(document, path);
          break;
        }
      }
      vars.payload = document;
    }
    if (this.output === 'document') return { kind: 'document', document };
    if (!this.mutates && bytes) return { kind: 'emit', bytes, document, reencoded: false };
    return { kind: 'emit', bytes: encodePayload(this.output, document), document, reencoded: true };
  }

  /** Whether `{payload.PATH}` can read anything: raw and text payloads have no fields. */
  get hasFields(): boolean {
    return this.output === 'json' || this.output === 'cbor' || this.output === 'document' || this.steps.some((s) => s.kind === 'map' || s.kind === 'map-whole');
  }
}

/**
 * Top-level renames by copying, each field keeping its place: `delete` would turn the document
 * into a slow dictionary-mode object for every later step and for the encoder. A target that
 * existed is replaced by the moved value, as a move does.
 */
function renamed(document: { [field: string]: Document }, renames: ReadonlyMap<string, string>): { [field: string]: Document } {
  const replaced = new Set<string>();
  for (const [from, to] of renames) if (Object.prototype.hasOwnProperty.call(document, from)) replaced.add(to);
  const out: { [field: string]: Document } = {};
  for (const field of Object.keys(document)) {
    const to = renames.get(field);
    if (to !== undefined) put(out, to, document[field]);
    else if (!replaced.has(field)) put(out, field, document[field]);
  }
  return out;
}

/** Top-level drops by copying, for the same reason as renamed(). */
function copyWithout(document: { [field: string]: Document }, drops: ReadonlySet<string>): { [field: string]: Document } {
  const out: { [field: string]: Document } = {};
  for (const field of Object.keys(document)) if (!drops.has(field)) put(out, field, document[field]);
  return out;
}

/** Sets an own field, `__proto__` included (JSON.parse makes it an own field; `=` would set the prototype). */
function put(target: { [field: string]: Document }, field: string, value: Document): void {
  if (field === '__proto__') Object.defineProperty(target, field, { value, enumerable: true, writable: true, configurable: true });
  else target[field] = value;
}

function evaluate(label: string, expression: CompiledExpression, vars: Record<string, unknown>): unknown {
  return expression.evaluate(vars, label);
}

/**
 * An expression's result in the document model. Values the output formats cannot hold are a
 * transform failure here, not a surprise at encoding.
 */
function toDocument(label: string, value: unknown): Document {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TransformFailedError(`${label}: the result is NaN or infinite`);
      return value;
    case 'bigint':
      if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(value);
      throw new TransformFailedError(`${label}: the result is an integer beyond 2^53`);
    case 'object':
      break;
    default:
      throw new TransformFailedError(`${label}: the result is ${kindOf(value)}, which a document cannot hold`);
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((item) => toDocument(label, item));
  if (value instanceof Date) return value.toISOString();
  const proto = Object.getPrototypeOf(value) as object | null;
  // CEL's uint literals (`3u`) are objects; its durations and types have no document form.
  if (proto?.constructor?.name === 'UnsignedInteger') return Number(String(value));
  if (value instanceof Map) {
    const out: { [field: string]: Document } = {};
    for (const [k, v] of value) {
      if (typeof k !== 'string') throw new TransformFailedError(`${label}: a map key of the result is not a string`);
      put(out, k, toDocument(label, v));
    }
    return out;
  }
  if (proto !== Object.prototype && proto !== null) {
    throw new TransformFailedError(`${label}: the result is a CEL ${proto.constructor?.name ?? 'object'} value; convert it with string(), int() or double()`);
  }
  const out: { [field: string]: Document } = {};
  for (const k of Object.keys(value)) put(out, k, toDocument(label, (value as Record<string, unknown>)[k]));
  return out;
}
