import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role } from './admin.schema';

/** A bearer token the service accepts: its id, role and the SHA-256 of its value. */
export interface KnownToken {
  readonly id: string;
  readonly role: Role;
  readonly sha256: Buffer;
}

export interface Principal {
  readonly tokenId: string;
  readonly role: Role;
}

/**
 * Checks `Authorization: Bearer <token>`. Presented tokens are hashed and compared with every
 * known hash in constant time, all of them every time, so neither timing nor early exit tells
 * how close a guess was or which token matched.
 */
export class TokenAuthenticator {
  constructor(private tokens: readonly KnownToken[]) {}

  /** Takes a new token list (configuration reload): removed tokens stop working at once. */
  replace(tokens: readonly KnownToken[]): void {
    this.tokens = tokens;
  }

  /** The principal, or undefined for a missing, malformed or unknown token. */
  authenticate(header: string | undefined): Principal | undefined {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
    if (!match) return undefined;
    const presented = sha256(match[1]);
    let found: KnownToken | undefined;
    for (const token of this.tokens) {
      if (timingSafeEqual(presented, token.sha256) && !found) found = token;
    }
    return found ? { tokenId: found.id, role: found.role } : undefined;
  }
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
