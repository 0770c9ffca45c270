import { BridgeError } from '@app/core';

/** One problem found in a configuration file, located for a human. */
export interface ConfigProblem {
  readonly file: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. the file is missing). */
  readonly line: number;
  readonly column: number;
  /** YAML path such as `rules[2].filters[0]`, empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.path ? `${where} ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/**
 * Problems a ConfigError keeps. Past a few dozen the file is not a configuration with mistakes
 * but something else (binary, another format), and megabytes of problems help nobody.
 */
export const MAX_LISTED_PROBLEMS = 20;

/** Thrown once with every problem found (up to MAX_LISTED_PROBLEMS), so an operator fixes them all in one go. */
export class ConfigError extends BridgeError {
  readonly retriable = false;
  readonly code = 'config';
  /** The first problems, in file order. */
  readonly problems: readonly ConfigProblem[];
  /** Problems found past MAX_LISTED_PROBLEMS, counted but not kept. */
  readonly omitted: number;

  constructor(problems: readonly ConfigProblem[]) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    const omitted = problems.length - listed.length;
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        listed.map((p) => '  ' + formatProblem(p)).join('\n') +
        (omitted > 0 ? `\n  ... and ${omitted} more` : ''),
    );
    this.problems = listed;
    this.omitted = omitted;
  }
}

export type PathSegment = string | number;

/** Map keys are the file's text: a megabyte-long key would otherwise be a megabyte-long path. */
const MAX_SEGMENT_CHARS = 80;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = seg.length > MAX_SEGMENT_CHARS ? `${seg.slice(0, MAX_SEGMENT_CHARS)}… (${seg.length} characters)` : seg;
      out += out ? `.${key}` : key;
    }
  }
  return out;
}
