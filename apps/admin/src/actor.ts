import type { Actor } from '@app/admin';
import { AuthedRequest, clientAddress } from './authenticate.middleware';

/** Who is asking, for the audit log: the token id the middleware found and the client address. */
export function actor(req: AuthedRequest): Actor {
  return { tokenId: req.principal?.tokenId ?? '-', remote: clientAddress(req) };
}
