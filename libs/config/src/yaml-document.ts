import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, Node, Pair, parse, parseDocument, Scalar, visit } from 'yaml';
import { ConfigError, ConfigProblem, formatPath, PathSegment } from './config.error';
import { decodeStrictUtf8 } from './strict-utf8';
import { findDuplicateKeys } from './yaml-duplicate-keys';
import { findYamlLimitFault } from './yaml-limits';

/** A parsed YAML file that can say where any path of it stands. */
export class YamlDocument {
  private constructor(
    readonly file: string,
    private readonly doc: ReturnType<typeof parseDocument>,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Reads and parses a file, then replaces `${NAME}` and `${NAME:-default}` in scalar
   * values from `env` (`$${` stays a literal `${`). Throws ConfigError with every
   * syntax error and every unset variable.
   */
  static load(file: string, env: Readonly<Record<string, string | undefined>>): YamlDocument {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
      throw new ConfigError([{ file, line: 0, column: 0, path: '', message: reason }]);
    }
    const decoded = decodeStrictUtf8(bytes);
    if ('invalid' in decoded) {
      const { line, column, offset, byte } = decoded.invalid;
      const hex = byte.toString(16).toUpperCase().padStart(2, '0');
      throw new ConfigError([
        { file, line, column, path: '', message: `invalid UTF-8: byte 0x${hex} at byte offset ${offset} (the configuration must be UTF-8 text)` },
      ]);
    }
    return YamlDocument.parse(file, decoded.text, env);
  }

  static parse(file: string, text: string, env: Readonly<Record<string, string | undefined>>): YamlDocument {
    const lines = new LineCounter();
    // Duplicate keys are found below, in one pass rather than the library's quadratic one.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
    // First, and alone: a document this deep or this aliased is not a configuration with a typo,
    // and the parser's own errors for it (a caught stack overflow) place nothing usefully.
    const fault = findYamlLimitFault(doc.contents);
    if (fault) {
      const pos = lines.linePos(fault.offset);
      throw new ConfigError([{ file, line: pos.line, column: pos.col, path: '', message: fault.message }]);
    }
    const at = (offset: number, message: string): ConfigProblem => {
      const pos = lines.linePos(offset);
      return { file, line: pos.line, column: pos.col, path: '', message };
    };
    const problems: ConfigProblem[] = [
      ...doc.errors.map((e) => at(e.pos[0], firstLine(e.message))),
      ...findDuplicateKeys(doc.contents).map((d) =>
        at(d.offset, `duplicate key ${JSON.stringify(shorten(d.key))} (first at line ${lines.linePos(d.firstOffset).line})`),
      ),
    ].sort((a, b) => a.line - b.line || a.column - b.column);
    const located = new YamlDocument(file, doc, lines);
    if (problems.length === 0) located.interpolate(env, problems);
    if (problems.length > 0) throw new ConfigError(problems);
    return located;
  }

  toJS(): unknown {
    // parse() already bounded what aliases expand to, with a line to show; the library's own
    // count would also refuse harmless reuse, with none.
    return this.doc.toJS({ maxAliasCount: -1 });
  }

  /**
   * A problem at `path`, placed at the deepest node of the path that exists (a missing
   * field is reported where its parent is). `keyOf` places it at a map key instead,
   * for unknown fields.
   */
  problem(path: readonly PathSegment[], message: string, keyOf?: string): ConfigProblem {
    const offset = this.offsetOf(path, keyOf);
    const pos = offset === undefined ? { line: 1, col: 1 } : this.lines.linePos(offset);
    const fullPath = keyOf === undefined ? path : [...path, keyOf];
    return { file: this.file, line: pos.line, column: pos.col, path: formatPath(fullPath), message };
  }

  private offsetOf(path: readonly PathSegment[], keyOf?: string): number | undefined {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node);
    for (const seg of path) {
      const next = child(node, seg);
      if (next === undefined) return offset;
      node = next.value;
      offset = rangeStart(node) ?? offset;
    }
    if (keyOf !== undefined) {
      const key = child(node, keyOf)?.key;
      offset = rangeStart(key) ?? offset;
    }
    return offset;
  }

  private interpolate(env: Readonly<Record<string, string | undefined>>, problems: ConfigProblem[]): void {
    const pattern = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}/g;
    visit(this.doc, {
      Scalar: (key, node, ancestors) => {
        if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
        const missing: string[] = [];
        const replaced = node.value.replace(pattern, (whole, escaped: string, name: string, fallback?: string) => {
          if (escaped) return whole.slice(1);
          const value = env[name];
          if (value !== undefined && value !== '') return value;
          if (fallback !== undefined) return fallback;
          missing.push(name);
          return whole;
        });
        node.value = node.type === Scalar.PLAIN ? plainScalar(replaced) : replaced;
        if (missing.length > 0) {
          const pos = this.lines.linePos(node.range?.[0] ?? 0);
          problems.push({
            file: this.file,
            line: pos.line,
            column: pos.col,
            path: formatPath(pathOf(ancestors, node)),
            message: `environment variable ${missing.map((m) => '${' + m + '}').join(', ')} is not set (write \${NAME:-default} for a default)`,
          });
        }
      },
    });
  }
}

/**
 * An unquoted `${PORT}` should become the number 1883, as if the value had been written in
 * the file; a quoted one stays a string.
 */
function plainScalar(text: string): unknown {
  try {
    const value: unknown = parse(text);
    return value === null || typeof value === 'object' ? text : value;
  } catch {
    return text;
  }
}

/** The parser quotes the offending token whole, which in a binary or minified file can be megabytes. */
const MAX_PARSER_MESSAGE_CHARS = 200;

function firstLine(message: string): string {
  return shorten(message.split('\n', 1)[0], MAX_PARSER_MESSAGE_CHARS);
}

function shorten(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | undefined)?.range?.[0];
}

// A map with 100 000 unknown keys gives 100 000 problems to locate: searching the map for each
// would take minutes.
const keyIndexes = new WeakMap<object, Map<string, Pair>>();

function child(node: unknown, seg: PathSegment): { key?: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    let index = keyIndexes.get(node);
    if (!index) {
      index = new Map();
      for (const p of node.items) {
        const name = isScalar(p.key) ? String(p.key.value) : undefined;
        if (name !== undefined && !index.has(name)) index.set(name, p as Pair);
      }
      keyIndexes.set(node, index);
    }
    const pair = index.get(String(seg));
    return pair ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item = node.items[seg];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}

function pathOf(ancestors: readonly unknown[], target: unknown): PathSegment[] {
  const path: PathSegment[] = [];
  const chain = [...ancestors, target];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const next = chain[i + 1];
    if (isPair(parent) && isScalar(parent.key)) path.push(String(parent.key.value));
    else if (isSeq(parent)) path.push(parent.items.indexOf(next as never));
  }
  return path;
}
