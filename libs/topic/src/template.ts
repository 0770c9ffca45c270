import { BridgeError, TemplateContext } from '@app/core';
import { quote } from './quote';
import { parseRecordPlaceholder, RECORD_BUILT_INS, RecordPart, recordValue } from './record-fields';

export type { TemplateContext };

/**
 * What a template renders from: an MQTT message (topic, levels, captures of the rule's filters)
 * or a Kafka record (key, headers, JSON payload fields, topic and partition).
 */
export type TemplateInput = 'mqtt-message' | 'kafka-record';

/** A template that cannot be compiled; the message names the placeholder, its column and what is allowed. */
export class TemplateError extends BridgeError {
  readonly retriable = false;
  readonly code = 'template-invalid';

  constructor(
    /** The template as written. */
    readonly template: string,
    /** 1-based column (in characters) of the problem. */
    readonly column: number,
    detail: string,
  ) {
    super(`invalid template ${quote(template)} at column ${column}: ${detail}`);
  }
}

/** A message the template cannot be rendered for; it must be dead-lettered rather than routed elsewhere. */
export class TemplateRenderError extends BridgeError {
  readonly retriable = false as const;
  readonly code = 'template' as const;

  constructor(message: string) {
    super(message);
  }
}

/** A template parsed once into parts, so rendering is a single concatenation loop. */
export interface CompiledTemplate {
  readonly source: string;
  /** Distinct placeholder names in order of first use, e.g. `['site', 'level.2', 'qos']`. */
  readonly placeholders: readonly string[];
  /** True when the template has no placeholders, so every message renders the same string. */
  readonly isStatic: boolean;
  /** @throws TemplateRenderError when the message lacks a level or capture the template needs. */
  render(ctx: TemplateContext): string;
  /**
   * A rendering as error messages may show it: quoted, unless it holds values from a Kafka
   * record (key, headers, payload), which may be plaintext the bridge decrypted and never go
   * into a log line or a dead-letter header.
   */
  show(rendered: string): string;
}

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'topic' | 'qos' | 'rule' | 'clientId' }
  | { readonly kind: 'level'; readonly index: number }
  | { readonly kind: 'capture'; readonly name: string }
  | { readonly kind: 'record'; readonly part: RecordPart };

const BUILT_INS = ['topic', 'qos', 'rule', 'clientId'] as const;
type BuiltIn = (typeof BUILT_INS)[number];
/** Built-ins that mean the same whatever the input. */
const COMMON_BUILT_INS: readonly BuiltIn[] = ['qos', 'rule', 'clientId'];
const LEVEL_PREFIX = 'level.';
const PAYLOAD_PREFIX = 'payload.';
const LEVEL_INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * Compiles `{name}` placeholders (captures of the rule's filters or built-ins) with `{{`/`}}` escapes.
 * @param allowedCaptures capture names defined by the rule's filters.
 * @param input what the template renders from; record placeholders (`{key}`, `{header.NAME}`,
 *   `{kafkaTopic}`, `{partition}`) exist only for `'kafka-record'`, topic levels and captures
 *   only for `'mqtt-message'`; `{payload.PATH}` for both (the processed document, or the
 *   record's JSON value).
 * @throws TemplateError on malformed syntax or an unknown name, listing the allowed names.
 */
export function compileTemplate(source: string, allowedCaptures: readonly string[], input: TemplateInput = 'mqtt-message'): CompiledTemplate {
  const parts: Part[] = [];
  const placeholders: string[] = [];
  for (const token of tokenize(source)) {
    if (token.kind === 'text') {
      parts.push(token);
      continue;
    }
    const { name, column } = token;
    parts.push(input === 'kafka-record' ? resolveRecordPlaceholder(source, column, name) : resolvePlaceholder(source, column, name, allowedCaptures));
    if (!placeholders.includes(name)) placeholders.push(name);
  }
  return build(source, parts, placeholders);
}

/** What a template is without its placeholders; see templateText. */
export interface TemplateText {
  /** The text between placeholders, joined, with `{{` and `}}` resolved: every rendering contains it. */
  readonly text: string;
  /** No placeholders: `text` is what every message renders. */
  readonly isStatic: boolean;
}

/**
 * The fixed text of a template, so validation can check what every rendering will contain
 * without knowing the rule's captures.
 * @throws TemplateError on malformed braces; placeholder names are not checked.
 */
export function templateText(source: string): TemplateText {
  const tokens = tokenize(source);
  return {
    text: tokens.map((t) => (t.kind === 'text' ? t.text : '')).join(''),
    isStatic: tokens.every((t) => t.kind === 'text'),
  };
}

/** templateText, or undefined for malformed braces (compiling the template reports those). */
export function wellFormedTemplateText(source: string): TemplateText | undefined {
  try {
    return templateText(source);
  } catch (error) {
    if (error instanceof TemplateError) return undefined;
    throw error;
  }
}

type Token = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'placeholder'; readonly name: string; readonly column: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const char = source[i];
    if ((char === '{' || char === '}') && source[i + 1] === char) {
      text += char;
      i += 2;
      continue;
    }
    if (char === '}') {
      throw new TemplateError(source, columnOf(source, i), 'stray "}"; write "}}" for a literal brace');
    }
    if (char !== '{') {
      text += char;
      i++;
      continue;
    }
    const close = source.indexOf('}', i + 1);
    const nextOpen = source.indexOf('{', i + 1);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      throw new TemplateError(source, columnOf(source, i), 'unclosed "{"; write "{{" for a literal brace');
    }
    if (text) tokens.push({ kind: 'text', text });
    text = '';
    tokens.push({ kind: 'placeholder', name: source.slice(i + 1, close), column: columnOf(source, i) });
    i = close + 1;
  }
  if (text) tokens.push({ kind: 'text', text });
  return tokens;
}

function resolvePlaceholder(source: string, column: number, name: string, captures: readonly string[]): Part {
  if (name.length === 0) {
    throw new TemplateError(source, column, `empty placeholder "{}"; ${describeAllowed(captures)}`);
  }
  const isCapture = captures.includes(name);
  if (isBuiltIn(name)) {
    if (isCapture) {
      throw new TemplateError(
        source,
        column,
        `placeholder "{${name}}" is ambiguous: it is both a built-in and a capture of the rule's filters; ` + 'rename the capture',
      );
    }
    return { kind: name };
  }
  if (name.startsWith(LEVEL_PREFIX)) {
    const digits = name.slice(LEVEL_PREFIX.length);
    if (!LEVEL_INDEX.test(digits)) {
      throw new TemplateError(source, column, `placeholder "{${name}}" needs a 0-based level number without leading zeros, e.g. "{level.0}"`);
    }
    return { kind: 'level', index: Number(digits) };
  }
  if (isCapture) return { kind: 'capture', name };
  if (name.startsWith(PAYLOAD_PREFIX)) {
    const part = parseRecordPlaceholder(name);
    if (typeof part === 'string') throw new TemplateError(source, column, part);
    if (part?.kind === 'payload') return { kind: 'record', part };
  }
  throw new TemplateError(source, column, `unknown placeholder "{${name}}"; ${describeAllowed(captures)}`);
}

function resolveRecordPlaceholder(source: string, column: number, name: string): Part {
  if ((COMMON_BUILT_INS as readonly string[]).includes(name)) return { kind: name as BuiltIn };
  const part = parseRecordPlaceholder(name);
  if (typeof part === 'string') throw new TemplateError(source, column, part);
  if (part) return { kind: 'record', part };
  const allowed = [...RECORD_BUILT_INS, 'header.NAME', 'payload.PATH', ...COMMON_BUILT_INS].map((n) => `{${n}}`).join(', ');
  const what = name.length === 0 ? 'empty placeholder "{}"' : `unknown placeholder "{${name}}"`;
  throw new TemplateError(source, column, `${what}; a template for Kafka records may use ${allowed}`);
}

function isBuiltIn(name: string): name is BuiltIn {
  return (BUILT_INS as readonly string[]).includes(name);
}

function describeAllowed(captures: readonly string[]): string {
  const builtIns = ['topic', 'level.N', ...BUILT_INS.slice(1), 'payload.PATH'].map((n) => `{${n}}`).join(', ');
  const fromFilters = captures.length
    ? `captures ${captures.map((n) => `{${n}}`).join(', ')}`
    : "no captures (none is defined by every one of the rule's filters)";
  return `allowed are built-ins ${builtIns} and ${fromFilters}`;
}

// Columns count characters, not UTF-16 units, as an editor shows them.
function columnOf(source: string, index: number): number {
  return Array.from(source.slice(0, index)).length + 1;
}

function build(source: string, parts: readonly Part[], placeholders: readonly string[]): CompiledTemplate {
  const isStatic = placeholders.length === 0;
  const constant = isStatic ? parts.map((part) => (part.kind === 'text' ? part.text : '')).join('') : '';
  const fromRecord = parts.some((part) => part.kind === 'record');
  return Object.freeze({
    source,
    placeholders: Object.freeze([...placeholders]),
    isStatic,
    show: fromRecord
      ? (rendered: string) => `rendered from ${quote(source)} (${rendered.length} characters from the Kafka record, not shown)`
      : (rendered: string) => quote(rendered),
    render: isStatic
      ? () => constant
      : (ctx: TemplateContext) => {
          let out = '';
          for (let i = 0; i < parts.length; i++) out += renderPart(parts[i], ctx, source);
          return out;
        },
  });
}

function renderPart(part: Part, ctx: TemplateContext, source: string): string {
  switch (part.kind) {
    case 'text':
      return part.text;
    case 'topic':
      return ctx.topic;
    case 'qos':
      return String(ctx.qos);
    case 'rule':
      return ctx.rule;
    case 'clientId':
      return ctx.clientId;
    case 'level': {
      const value = ctx.levels[part.index];
      if (value === undefined) {
        throw new TemplateRenderError(
          `template ${quote(source)} needs {level.${part.index}} but topic ${quote(ctx.topic)} ` +
            `has only ${ctx.levels.length} level${ctx.levels.length === 1 ? '' : 's'} (0-based)`,
        );
      }
      return value;
    }
    case 'record': {
      const result = recordValue(part.part, ctx.record, source, ctx.document);
      if ('problem' in result) throw new TemplateRenderError(result.problem);
      return result.value;
    }
    case 'capture': {
      // hasOwn keeps a capture named like an Object.prototype member from reading the prototype.
      const value = Object.hasOwn(ctx.captures, part.name) ? ctx.captures[part.name] : undefined;
      if (value === undefined) {
        // A rule may list several filters that capture different names.
        throw new TemplateRenderError(
          `template ${quote(source)} needs capture {${part.name}} but the filter that matched topic ` + `${quote(ctx.topic)} does not capture it`,
        );
      }
      return value;
    }
  }
}
