import type { RecordFields } from '@app/core';
import { quote } from './quote';

export type { RecordFields };

/** A placeholder that reads the record: its key, a header, or a field of a JSON value. */
export type RecordPart =
  | { readonly kind: 'key' | 'kafkaTopic' | 'partition' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'payload'; readonly path: readonly string[] };

export const RECORD_BUILT_INS = ['key', 'kafkaTopic', 'partition'] as const;
const HEADER_PREFIX = 'header.';
const PAYLOAD_PREFIX = 'payload.';

/**
 * Parses a record placeholder name; undefined when the name is not one, a string when it is
 * malformed (the problem, for the compile error).
 */
export function parseRecordPlaceholder(name: string): RecordPart | string | undefined {
  if ((RECORD_BUILT_INS as readonly string[]).includes(name)) return { kind: name as (typeof RECORD_BUILT_INS)[number] };
  if (name.startsWith(HEADER_PREFIX)) {
    const header = name.slice(HEADER_PREFIX.length);
    return header.length > 0 ? { kind: 'header', name: header } : `placeholder "{${name}}" needs a header name, e.g. "{header.device}"`;
  }
  if (name.startsWith(PAYLOAD_PREFIX)) {
    const path = name.slice(PAYLOAD_PREFIX.length).split('.');
    return path.every((segment) => segment.length > 0)
      ? { kind: 'payload', path }
      : `placeholder "{${name}}" needs a dotted path of JSON fields, e.g. "{payload.device.id}"`;
  }
  return undefined;
}

/**
 * The value of a record placeholder, or why there is none. `{payload.PATH}` reads `document`
 * when the rule processed the payload, else the record's JSON value. A value from the message
 * fills exactly one topic level: one holding '/', '+', '#' or NUL is refused, so a key or a
 * payload field cannot steer a message into another device's topics.
 */
export function recordValue(part: RecordPart, record: RecordFields | undefined, source: string, document?: unknown): { value: string } | { problem: string } {
  const fromDocument = part.kind === 'payload' && document !== undefined;
  if (!record && !fromDocument) {
    const problem = part.kind === 'payload' ? 'reads the payload but the rule decoded none' : 'reads a Kafka record but was rendered for an MQTT message';
    return { problem: `template ${quote(source)} ${problem}` };
  }
  const value = part.kind === 'payload' ? scalarAt(fromDocument ? document : record!.json(), part.path) : lookup(part, record!);
  const what = describe(part);
  if (value === undefined) {
    const why = fromDocument ? 'the document has no string, number or boolean there' : missing(part, record!);
    return { problem: `template ${quote(source)} needs ${what} but ${why}` };
  }
  if (/[/+#\u0000]/.test(value)) {
    // The value itself stays out: it may be plaintext the bridge decrypted, bound for a log line.
    return { problem: `template ${quote(source)}: ${what} is not a single topic level (it holds '/', '+', '#' or NUL)` };
  }
  return { value };
}

function lookup(part: Exclude<RecordPart, { kind: 'payload' }>, record: RecordFields): string | undefined {
  switch (part.kind) {
    case 'key':
      return record.key ?? undefined;
    case 'kafkaTopic':
      return record.kafkaTopic;
    case 'partition':
      return String(record.partition);
    case 'header':
      return Object.hasOwn(record.headers, part.name) ? record.headers[part.name] : undefined;
  }
}

/** The string, number or boolean at a dotted path of a JSON document, as text. */
function scalarAt(document: unknown, path: readonly string[]): string | undefined {
  let node = document;
  for (const segment of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' ? String(node) : undefined;
}

function describe(part: RecordPart): string {
  switch (part.kind) {
    case 'header':
      return `{header.${part.name}}`;
    case 'payload':
      return `{payload.${part.path.join('.')}}`;
    default:
      return `{${part.kind}}`;
  }
}

function missing(part: RecordPart, record: RecordFields): string {
  switch (part.kind) {
    case 'key':
      return 'the record has no key';
    case 'header':
      return 'the record has no such header';
    case 'payload':
      return record.json() === undefined ? 'the record value is not JSON' : 'the JSON value has no string, number or boolean there';
    default:
      return 'the record lacks it';
  }
}
