import { isDeepStrictEqual } from 'node:util';

/** Unchanged lines kept around each change; longer unchanged runs are elided. */
const CONTEXT_LINES = 2;

/** Whether two values are the same, objects compared field by field whatever their key order. */
export function sameValue(expected: unknown, actual: unknown): boolean {
  return isDeepStrictEqual(expected, actual);
}

/**
 * The difference of one field, for people: `- expected` and `+ actual` lines; documents are
 * pretty-printed (keys sorted) and compared line by line, so a change deep inside a payload
 * shows as the one line that differs.
 */
export function fieldDiff(label: string, expected: unknown, actual: unknown): string[] {
  const [want, got] = [pretty(expected), pretty(actual)];
  if (want.length === 1 && got.length === 1) return [`${label}:`, `  - ${want[0]}`, `  + ${got[0]}`];
  return [`${label}:`, ...elide(lineDiff(want, got)).map((line) => `  ${line}`)];
}

/** A value as JSON text lines, keys sorted; text that is no JSON value (undefined) says so. */
function pretty(value: unknown): string[] {
  if (value === undefined) return ['(nothing)'];
  return JSON.stringify(sortKeys(value), null, 2).split('\n');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

/** Longest-common-subsequence diff of two line lists: ` ` both, `-` expected only, `+` actual only. */
function lineDiff(a: readonly string[], b: readonly string[]): string[] {
  const common: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i][j] = a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const out: string[] = [];
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i++]}`);
      j++;
    } else if (j < b.length && (i === a.length || common[i][j + 1] >= common[i + 1][j])) {
      out.push(`+ ${b[j++]}`);
    } else {
      out.push(`- ${a[i++]}`);
    }
  }
  // Expected before actual within each change, as the legend reads.
  return groupChanges(out);
}

function groupChanges(lines: string[]): string[] {
  const out: string[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    out.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (const line of lines) {
    if (line.startsWith('-')) removed.push(line);
    else if (line.startsWith('+')) added.push(line);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out;
}

/** Keeps CONTEXT_LINES unchanged lines around each change and replaces longer runs with `...`. */
function elide(lines: string[]): string[] {
  const near = lines.map((line, i) => line[0] !== ' ' || lines.slice(Math.max(0, i - CONTEXT_LINES), i + CONTEXT_LINES + 1).some((l) => l[0] !== ' '));
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (near[i]) out.push(line);
    else if (out[out.length - 1] !== '  ...') out.push('  ...');
  });
  return out;
}
