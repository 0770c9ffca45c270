import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/* docker-compose.yml and the Dockerfile read as Docker reads them, for the static deployment tests. */

export interface ComposeService {
  name: string;
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  command?: string[];
  environment: Record<string, string>;
  secrets: string[];
  volumes: string[];
  ports: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  stop_grace_period?: string;
  profiles?: string[];
}

export interface ComposeFile {
  services: ComposeService[];
  secrets: Record<string, { file: string }>;
  volumes: string[];
}

/**
 * Compose's variable substitution: `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
 * `${NAME:?message}` (an error when unset), `$$` for a literal `$`.
 */
export function interpolateCompose(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})/g, (whole, dollar: string, name?: string, op?: string, arg?: string) => {
    if (dollar === '$') return '$';
    const value = env[name!];
    const unset = op?.startsWith(':') ? value === undefined || value === '' : value === undefined;
    if (!unset) return value!;
    if (op?.endsWith('-')) return arg ?? '';
    if (op?.endsWith('?')) throw new Error(`compose: required variable ${name} is not set (${arg})`);
    return '';
  });
}

/** The variables a compose file requires (`${NAME:?...}`), each with its message. */
export function requiredVariables(text: string): Map<string, string> {
  const required = new Map<string, string>();
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?([^}]*)\}/g)) {
    if (!required.has(match[1])) required.set(match[1], match[2]);
  }
  return required;
}

export function loadComposeFile(file: string, env: Readonly<Record<string, string | undefined>>): ComposeFile {
  const raw = parse(interpolateCompose(readFileSync(file, 'utf8'), env), { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
    secrets?: Record<string, { file: string }>;
    volumes?: Record<string, unknown>;
  };
  const services = Object.entries(raw.services).map(([name, s]): ComposeService => {
    const secrets = (s.secrets as Array<string | { source: string }> | undefined) ?? [];
    return {
      ...(s as Partial<ComposeService>),
      name,
      entrypoint: listOf(s.entrypoint),
      command: listOf(s.command),
      environment: environmentOf(s.environment),
      secrets: secrets.map((x) => (typeof x === 'string' ? x : x.source)),
      volumes: ((s.volumes as unknown[] | undefined) ?? []).map(String),
      ports: ((s.ports as unknown[] | undefined) ?? []).map(String),
    };
  });
  return { services, secrets: raw.secrets ?? {}, volumes: Object.keys(raw.volumes ?? {}) };
}

function listOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  // The shell form: Docker runs it through /bin/sh -c, which no service here should need.
  if (typeof value === 'string') return ['/bin/sh', '-c', value];
  return (value as unknown[]).map(String);
}

function environmentOf(value: unknown): Record<string, string> {
  if (!value) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(value.map((entry: string) => [entry.split('=')[0], entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** What the final stage of a Dockerfile gives its containers. */
export interface ImageSpec {
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  /** Directories copied from the build context: container path -> context path. */
  copies: Array<[container: string, context: string]>;
  /** Directories created (RUN mkdir -p) with their owner (RUN chown), by path. */
  owned: Map<string, string>;
}

export function loadImageSpec(dockerfile: string): ImageSpec {
  const lines = readFileSync(dockerfile, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const spec: ImageSpec = { workdir: '/', entrypoint: [], cmd: [], env: {}, copies: [], owned: new Map() };
  for (const line of lines.slice(lastFrom + 1)) {
    const [, instruction, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    switch (instruction?.toUpperCase()) {
      case 'WORKDIR':
        spec.workdir = join(spec.workdir, rest);
        break;
      case 'ENTRYPOINT':
        spec.entrypoint = JSON.parse(rest) as string[];
        break;
      case 'CMD':
        spec.cmd = JSON.parse(rest) as string[];
        break;
      case 'ENV': {
        const [name, ...value] = rest.split(/[= ]/);
        spec.env[name] = value.join('=');
        break;
      }
      case 'COPY':
        if (!rest.startsWith('--from')) {
          const [from, to] = rest.split(/\s+/);
          spec.copies.push([join(spec.workdir, to), from]);
        }
        break;
      case 'RUN': {
        const chown = /chown\s+(\S+)\s+(\S+)/.exec(rest);
        if (/mkdir -p/.test(rest) && chown) spec.owned.set(chown[2], chown[1]);
        break;
      }
    }
  }
  return spec;
}
