import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { LoosePermissions, secretFilePermissionProblem } from '@app/keystore';
import type { Environment } from '@app/config';
import type { TokenConfig } from './admin.schema';
import { KnownToken, sha256 } from './token.authenticator';

const MIN_TOKEN_LENGTH = 32;

/** A token that cannot be used, located by its index in `admin.tokens`. */
export interface TokenProblem {
  readonly index: number;
  readonly field: 'id' | 'file' | 'env';
  readonly message: string;
}

/**
 * Resolves the configured tokens to hashes, reporting every token that cannot be used
 * (missing file or variable, too short, duplicate id); messages never quote a token.
 */
export function resolveTokens(
  tokens: readonly TokenConfig[],
  env: Environment,
  baseDir: string,
  loose: LoosePermissions = 'warn',
): { known: KnownToken[]; problems: TokenProblem[] } {
  const problems: TokenProblem[] = [];
  const known: KnownToken[] = [];
  const ids = new Set<string>();
  tokens.forEach((t, index) => {
    if (ids.has(t.id)) problems.push({ index, field: 'id', message: `duplicate token id ${JSON.stringify(t.id)}` });
    ids.add(t.id);
    if (t.sha256) {
      known.push({ id: t.id, role: t.role, sha256: Buffer.from(t.sha256, 'hex') });
      return;
    }
    const field = t.file ? 'file' : 'env';
    const permissions = t.file ? secretFilePermissionProblem(resolve(baseDir, t.file)) : undefined;
    if (permissions && loose === 'refuse') {
      problems.push({ index, field, message: `token file ${permissions} (admin.tokenFilePermissions: refuse)` });
      return;
    }
    if (permissions) new Logger('Secrets').warn(`admin.tokens[${index}] (${t.id}): token file ${permissions}`);
    const value = t.file ? readToken(resolve(baseDir, t.file)) : env[t.env as string]?.trim();
    if (value === undefined || value === '') {
      problems.push({ index, field, message: t.file ? `cannot read the token file ${resolve(baseDir, t.file)}` : `environment variable ${t.env} is not set` });
    } else if (value.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
      problems.push({
        index,
        field,
        message: `the token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces (e.g. openssl rand -hex 32)`,
      });
    } else {
      known.push({ id: t.id, role: t.role, sha256: sha256(value) });
    }
  });
  return { known, problems };
}

function readToken(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}
