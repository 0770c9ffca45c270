import { z } from 'zod';
import { isValidKeyName, KEY_NAME_MAX_LENGTH, MAX_KEY_VERSION } from '@app/crypto';

/*
 * A key as a keystore holds it: metadata in clear, each secret wrapped by the master key
 * (master-key.ts). The same record is a line of the file keystore and a value of the Kafka
 * keystore. Public keys of sealed-box pairs are not secret and stay readable.
 */

const versionNumber = z.number().int().min(1).max(MAX_KEY_VERSION);
const isoTime = z.string().datetime({ offset: true });

export const storedKeyVersionSchema = z
  .object({
    version: versionNumber,
    state: z.enum(['active', 'revoked']),
    createdAt: isoTime,
    /** generated: made by the admin service; imported: provisioned elsewhere (already on devices). */
    origin: z.enum(['generated', 'imported']),
    publicKey: z.string().optional(),
    wrapped: z.string().min(1),
  })
  .strict();

export const storedKeySchema = z
  .object({
    name: z.string().refine(isValidKeyName, `must be 1..${KEY_NAME_MAX_LENGTH} characters of [A-Za-z0-9._-]`),
    type: z.enum(['symmetric', 'sealed']),
    /** Fixed at creation: only an exportable key's secret ever leaves the keystore. */
    exportable: z.boolean(),
    /** Soft-deleted: workers no longer use it; it can be restored until it is purged. */
    deletedAt: isoTime.optional(),
    createdAt: isoTime,
    updatedAt: isoTime,
    /** Goes up by one with every change; writers name the revision they changed (optimistic concurrency). */
    revision: z.number().int().min(1),
    primaryVersion: versionNumber,
    minDecryptionVersion: versionNumber,
    versions: z.array(storedKeyVersionSchema).min(1),
    /** MasterKey.sign() over every other field; records without a valid one are not used. */
    mac: z.string().optional(),
  })
  .strict();

export type StoredKeyVersion = z.output<typeof storedKeyVersionSchema>;
export type StoredKey = z.output<typeof storedKeySchema>;

export const KEYSTORE_FORMAT = 'bridge-keystore/1';

export const keystoreDocumentSchema = z
  .object({
    format: z.literal(KEYSTORE_FORMAT),
    /** Id of the master key that wrapped every secret in the document. */
    masterKeyId: z.string().min(1),
    keys: z.array(storedKeySchema),
    /** keystore.manifest.ts; checked by the ManifestAuthority, which alone can tell a valid one. */
    manifest: z.unknown().optional(),
  })
  .strict();

export type KeystoreDocument = z.output<typeof keystoreDocumentSchema>;
