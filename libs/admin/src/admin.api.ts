import { z } from 'zod';
import { isValidKeyName, KEY_NAME_MAX_LENGTH, MAX_KEY_VERSION } from '@app/crypto';

/*
 * Request and response bodies of the admin API, validated with zod and published in the
 * OpenAPI document from the same schemas. Bodies are strict: an unknown field is a 400.
 */

/**
 * A name the service creates: an envelope key name that does not start with a dot. "." and
 * ".." would be dot segments in a URL (clients normalise them away: the key could not be
 * managed), and a leading dot reads as a hidden file wherever names become paths.
 */
export function isCreatableKeyName(name: string): boolean {
  return isValidKeyName(name) && !name.startsWith('.');
}
export const CREATABLE_KEY_NAME = `must be 1..${KEY_NAME_MAX_LENGTH} characters of [A-Za-z0-9._-], not starting with a dot`;

const keyName = z.string().refine(isCreatableKeyName, CREATABLE_KEY_NAME);
const version = z.number().int().min(1).max(MAX_KEY_VERSION);
const base64Key = z.string().min(1).max(128);

export const createKeyBody = z
  .object({
    name: keyName,
    /** symmetric: XChaCha20-Poly1305 key shared with devices. sealed: X25519 pair; devices get the public key. */
    type: z.enum(['symmetric', 'sealed']),
    /** Fixed for the key's life: only an exportable key's secret can ever be read back. */
    exportable: z.boolean().default(false),
  })
  .strict();

const material = {
  /** Base64 of the 32-byte key (symmetric) or X25519 secret key (sealed). */
  secret: base64Key,
  /** Sealed keys: base64 public key, checked against the secret. */
  publicKey: base64Key.optional(),
};

export const importKeyBody = createKeyBody.extend(material).strict();

export const rotateKeyBody = z
  .object({
    /** Import this material as the new version instead of generating one. */
    material: z.object(material).strict().optional(),
  })
  .strict();

export const minDecryptionVersionBody = z.object({ version }).strict();

export const exportKeyBody = z
  .object({
    /** Only this version; default: every active version at or above the minimum decryption version. */
    version: version.optional(),
    /** Required to export `version` when it is revoked or below the minimum decryption version (409 otherwise). */
    allowRetired: z.boolean().default(false),
  })
  .strict();

/** Routes that take no body: any field is a 400, so a request never acts on options it does not have (`{"dryRun": true}`). */
export const emptyBody = z.object({}).strict();

export const exportedKeySchema = z.object({
  name: z.string(),
  type: z.enum(['symmetric', 'sealed']),
  versions: z.array(z.object({ version: z.number().int(), secret: z.string(), publicKey: z.string().optional() })),
});

export const errorBody = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  problems: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
