import { z } from 'zod';
import type { StoredKey } from '@app/keystore';

/** What the API shows of a key: metadata and public keys, never a secret. */
export const keyViewSchema = z.object({
  name: z.string(),
  type: z.enum(['symmetric', 'sealed']),
  exportable: z.boolean(),
  state: z.enum(['enabled', 'deleted']),
  deletedAt: z.string().datetime().optional(),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
  /** Goes up with every change. */
  revision: z.number().int(),
  primaryVersion: z.number().int(),
  minDecryptionVersion: z.number().int(),
  /** Rules of the bridge configuration whose transform uses this key. */
  usedBy: z.array(z.string()),
  versions: z.array(
    z.object({
      version: z.number().int(),
      state: z.enum(['active', 'revoked']),
      createdAt: z.string().datetime(),
      origin: z.enum(['generated', 'imported']),
      /** Base64 X25519 public key (sealed keys): give it to publishers. */
      publicKey: z.string().optional(),
    }),
  ),
});

export type KeyView = z.output<typeof keyViewSchema>;

export function toKeyView(key: StoredKey, usedBy: readonly string[]): KeyView {
  return {
    name: key.name,
    type: key.type,
    exportable: key.exportable,
    state: key.deletedAt ? 'deleted' : 'enabled',
    ...(key.deletedAt ? { deletedAt: key.deletedAt } : {}),
    createdAt: key.createdAt,
    updatedAt: key.updatedAt,
    revision: key.revision,
    primaryVersion: key.primaryVersion,
    minDecryptionVersion: key.minDecryptionVersion,
    usedBy: [...usedBy],
    // Listed field by field: a spread would carry `wrapped` along.
    versions: key.versions.map((v) => ({
      version: v.version,
      state: v.state,
      createdAt: v.createdAt,
      origin: v.origin,
      ...(v.publicKey ? { publicKey: v.publicKey } : {}),
    })),
  };
}
