import { PreviewHeaderValue } from '@app/core';
import { decodePayload, Document, encodePayload } from '@app/transform';
import { fieldDiff, sameValue } from './rule-test.diff';
import { Expectation, ExpectedOutput } from './rule-test.schema';

/** One output of a case: where a destination would write, and the payload (opened when sealed). */
export interface ActualOutput {
  readonly rule: string;
  readonly destination: string;
  readonly summary: string;
  readonly topic: string;
  readonly key?: string | null;
  readonly headers: Readonly<Record<string, PreviewHeaderValue>>;
  readonly sealed: boolean;
  /** The payload as written, or its plaintext when sealed. */
  readonly plaintext?: Buffer;
  /** Why a sealed payload could not be opened with the test keys. */
  readonly openProblem?: string;
  /** Avro or Protobuf outputs: the record decoded with the rule's schema, in JSON terms, or why it could not be. */
  readonly decoded?: { value: unknown } | { problem: string };
}

export interface ActualDeadLetter {
  readonly rule: string;
  /** `transform`, or the destination's name. */
  readonly stage: string;
  readonly reason: string;
  readonly message: string;
}

/** Everything one case produced. */
export interface CaseOutcome {
  /** Rules that took the message. */
  readonly rules: readonly string[];
  readonly filtered: ReadonlyArray<{ readonly rule: string; readonly by: string }>;
  readonly deadLetters: readonly ActualDeadLetter[];
  readonly outputs: readonly ActualOutput[];
}

/** The differences between what a case expects and what it produced; none when it passes. */
export function compareOutcome(expected: Expectation, actual: CaseOutcome): string[] {
  if (expected.filtered) {
    const ok = actual.rules.length > 0 && actual.filtered.length === actual.rules.length;
    return ok ? [] : ['expected: filtered', ...labelled('actual:   ', summarize(actual))];
  }
  if (expected.deadLetter) {
    const want = expected.deadLetter;
    const matches = (d: ActualDeadLetter) =>
      d.reason === want.reason && (want.rule === undefined || d.rule === want.rule) && (want.message === undefined || d.message.includes(want.message));
    if (actual.outputs.length === 0 && actual.deadLetters.length > 0 && actual.deadLetters.every(matches)) return [];
    const first = actual.deadLetters.find((d) => !matches(d));
    if (actual.outputs.length > 0 || !first) return [`expected: dead letter ${want.reason}`, ...labelled('actual:   ', summarize(actual))];
    const shown = {
      reason: first.reason,
      ...(want.message === undefined ? {} : { message: first.message }),
      ...(want.rule === undefined ? {} : { rule: first.rule }),
    };
    return fieldDiff(`deadLetter (rule ${first.rule}, at ${first.stage}${want.message === undefined ? '' : '; message: text it contains'})`, want, shown);
  }
  return compareOutputs(expected.outputs!, actual);
}

function compareOutputs(expected: readonly ExpectedOutput[], actual: CaseOutcome): string[] {
  const lines = actual.deadLetters.map((d) => `unexpected dead letter: ${deadLetterLine(d)}`);
  if (expected.length !== actual.outputs.length) {
    lines.push(`expected ${expected.length} output(s), got ${actual.outputs.length}:`, ...summarize(actual).map((s) => `  ${s}`));
  }
  expected.forEach((want, i) => {
    const got = actual.outputs[i];
    if (got) lines.push(...compareOutput(`outputs[${i}] (${got.destination})`, want, got));
  });
  return lines;
}

function compareOutput(label: string, want: ExpectedOutput, got: ActualOutput): string[] {
  const lines: string[] = [];
  const check = (field: string, expected: unknown, actual: unknown) => {
    if (!sameValue(expected, actual)) lines.push(...fieldDiff(`${label} ${field}`, expected, actual));
  };
  if (want.rule !== undefined) check('rule', want.rule, got.rule);
  if (want.destination !== undefined) check('destination', want.destination, got.destination);
  check('topic', want.topic, got.topic);
  if (want.key !== undefined) check('key', want.key, got.key);
  for (const [name, value] of Object.entries(want.headers ?? {}))
    check(`headers.${name}`, headerText(value), got.headers[name] === undefined ? undefined : headerText(got.headers[name]));
  if (want.sealed !== undefined) check('sealed', want.sealed, got.sealed);
  if (got.openProblem !== undefined && (want.json ?? want.text ?? want.hex ?? want.cbor ?? want.decoded) !== undefined) {
    lines.push(`${label}: the sealed payload does not open with the test keys: ${got.openProblem}`);
    return lines;
  }
  const bytes = got.plaintext ?? Buffer.alloc(0);
  if (want.text !== undefined) check('text', want.text, bytes.toString('utf8'));
  if (want.hex !== undefined) check('hex', want.hex.toLowerCase(), bytes.toString('hex'));
  if (want.json !== undefined) {
    const parsed = parseJson(bytes);
    if (parsed === undefined) lines.push(...fieldDiff(`${label} json (the payload is not JSON; shown as text)`, want.json, bytes.toString('utf8')));
    else check('json', want.json, parsed.value);
  }
  if (want.cbor !== undefined) {
    const decoded = parseCbor(bytes);
    if (decoded === undefined) lines.push(...fieldDiff(`${label} cbor (the payload is not CBOR; shown as hex)`, want.cbor, bytes.toString('hex')));
    else check('cbor', want.cbor, decoded.value);
  }
  if (want.decoded !== undefined) {
    if (got.decoded === undefined) lines.push(`${label} decoded: the rule writes no Avro or Protobuf; compare its payload with json, cbor, text or hex`);
    else if ('problem' in got.decoded) lines.push(`${label} decoded: the output does not decode with the rule's schema: ${got.decoded.problem}`);
    else check('decoded', want.decoded, got.decoded.value);
  }
  return lines;
}

/** A header as text, the form every expectation compares (YAML numbers and flags included). */
function headerText(value: PreviewHeaderValue | readonly string[]): string | string[] {
  if (Array.isArray(value)) return value.map((v: string | Buffer) => v.toString());
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function parseJson(bytes: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return undefined;
  }
}

/** A CBOR payload in JSON terms (byte strings as base64), comparable with a YAML value. */
function parseCbor(bytes: Buffer): { value: unknown } | undefined {
  try {
    return { value: inJsonTerms(decodePayload('cbor', bytes)) };
  } catch {
    return undefined;
  }
}

/** A document as JSON shows it (byte strings as base64), comparable with a YAML value. */
export function inJsonTerms(document: Document): unknown {
  return JSON.parse(encodePayload('json', document).toString('utf8'));
}

function labelled(label: string, lines: readonly string[]): string[] {
  return lines.map((line, i) => (i === 0 ? label : ' '.repeat(label.length)) + line);
}

function deadLetterLine(d: ActualDeadLetter): string {
  return `rule ${d.rule} at ${d.stage}: ${d.reason}: ${d.message}`;
}

/** What a case produced, one line per rule outcome, for a mismatch of kind. */
export function summarize(actual: CaseOutcome): string[] {
  if (actual.rules.length === 0) return ['no rule takes this topic'];
  return [
    ...actual.filtered.map((f) => `filtered by rule ${f.rule} (${f.by})`),
    ...actual.deadLetters.map((d) => `dead letter: ${deadLetterLine(d)}`),
    ...actual.outputs.map((o) => `output ${o.destination}: ${o.summary}${o.sealed ? ' (sealed)' : ''}`),
  ];
}
