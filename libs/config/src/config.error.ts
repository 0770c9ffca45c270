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

/** Thrown once with every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  readonly retriable = false;
  readonly code = 'config';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => '  ' + formatProblem(p)).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export type PathSegment = string | number;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}
