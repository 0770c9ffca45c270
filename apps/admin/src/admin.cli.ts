import { readFileSync } from 'node:fs';
import type { Environment } from '@app/config';

export const CLI_USAGE = `usage: admin keys <command> [args] [--url URL] [--token-file FILE] [--insecure]
  list [--deleted]                     name, type, versions, state
  get <name>                           one key's metadata (JSON)
  create <name> symmetric|sealed [--exportable]
  import <name> symmetric|sealed --secret-file FILE [--exportable]
  rotate <name> [--secret-file FILE]   new primary version (imported from FILE if given)
  revoke <name> <version>
  min-version <name> <version>         refuse every version below <version>
  export <name> [<version>]            prints secrets (exportable keys only)
  delete <name> | restore <name> | purge <name>
URL defaults to $BRIDGE_ADMIN_URL, the token to the file $BRIDGE_ADMIN_TOKEN_FILE or $BRIDGE_ADMIN_TOKEN.
Plain http is refused except to this host (--insecure overrides).`;

/** A command line that does not fit the usage. */
export class CliUsageError extends Error {}

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/**
 * The operator's command line over the admin API: every command is one HTTP call, so it needs
 * nothing but the URL and a token, and is audited like any other client.
 */
export async function adminCli(argv: readonly string[], env: Environment, print: (line: string) => void): Promise<number> {
  const args = [...argv];
  const flag = (name: string): boolean => {
    const i = args.indexOf(name);
    if (i >= 0) args.splice(i, 1);
    return i >= 0;
  };
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const value = args[i + 1];
    if (value === undefined) throw new CliUsageError(`${name} needs a value`);
    args.splice(i, 2);
    return value;
  };
  const url = option('--url') ?? env.BRIDGE_ADMIN_URL;
  const insecure = flag('--insecure');
  const tokenFile = option('--token-file') ?? env.BRIDGE_ADMIN_TOKEN_FILE;
  const secretFile = option('--secret-file');
  const exportable = flag('--exportable');
  const deleted = flag('--deleted');
  const [command, name, third] = args;
  if (!url) throw new CliUsageError('no admin URL: give --url or set BRIDGE_ADMIN_URL');
  if (!insecure && !isSafeUrl(url)) throw new CliUsageError(`${url}: plain http to another host would send the token in clear; use https, or --insecure`);
  const token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : env.BRIDGE_ADMIN_TOKEN;
  if (!token) throw new CliUsageError('no token: give --token-file or set BRIDGE_ADMIN_TOKEN_FILE or BRIDGE_ADMIN_TOKEN');
  const secret = secretFile ? readFileSync(secretFile, 'utf8').trim() : undefined;
  const call = route(command, name, third, { exportable, deleted, secret });
  const response = await fetch(`${url.replace(/\/+$/, '')}${call.path}`, {
    method: call.method,
    headers: { authorization: `Bearer ${token}`, ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: call.body !== undefined ? JSON.stringify(call.body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) {
    print(`${response.status}: ${text}`);
    return 1;
  }
  if (command === 'list') {
    for (const k of (JSON.parse(text) as { keys: Array<{ name: string; type: string; state: string; primaryVersion: number; versions: unknown[] }> }).keys) {
      print(`${k.name}\t${k.type}\t${k.state}\tprimary v${k.primaryVersion}\t${k.versions.length} version(s)`);
    }
  } else if (text) {
    print(JSON.stringify(JSON.parse(text), null, 2));
  }
  return 0;
}

function isSafeUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
  } catch {
    throw new CliUsageError(`${url} is not a URL`);
  }
}

function route(
  command: string | undefined,
  name: string | undefined,
  third: string | undefined,
  o: { exportable: boolean; deleted: boolean; secret?: string },
): Call {
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new CliUsageError(`${command} needs ${what}`);
    return value;
  };
  const key = () => `/v1/keys/${encodeURIComponent(need(name, 'a key name'))}`;
  const version = () => Number(need(third, 'a version'));
  switch (command) {
    case 'list':
      return { method: 'GET', path: `/v1/keys${o.deleted ? '?deleted=true' : ''}` };
    case 'get':
      return { method: 'GET', path: key() };
    case 'create':
      return { method: 'POST', path: '/v1/keys', body: { name: need(name, 'a key name'), type: need(third, 'a type'), exportable: o.exportable } };
    case 'import':
      return {
        method: 'POST',
        path: '/v1/keys/import',
        body: { name: need(name, 'a key name'), type: need(third, 'a type'), exportable: o.exportable, secret: need(o.secret, '--secret-file') },
      };
    case 'rotate':
      return { method: 'POST', path: `${key()}/rotate`, body: o.secret ? { material: { secret: o.secret } } : {} };
    case 'revoke':
      return { method: 'POST', path: `${key()}/versions/${version()}/revoke` };
    case 'min-version':
      return { method: 'PUT', path: `${key()}/min-decryption-version`, body: { version: version() } };
    case 'export':
      return { method: 'POST', path: `${key()}/export`, body: third ? { version: version() } : {} };
    case 'delete':
      return { method: 'DELETE', path: key() };
    case 'restore':
      return { method: 'POST', path: `${key()}/restore` };
    case 'purge':
      return { method: 'DELETE', path: `${key()}/purge?confirm=${encodeURIComponent(need(name, 'a key name'))}` };
    default:
      throw new CliUsageError(command ? `unknown command ${command}` : 'no command');
  }
}
