import { InvalidKeysError, KeyEntry, KeyType } from '@app/crypto';
import { MasterKey, MasterKeyError } from './master-key';
import { StoredKey, StoredKeyVersion } from './stored-key';

/**
 * Unwraps the keys a worker should use: soft-deleted keys are left out, so messages naming
 * them are dead-lettered as `key-unknown`. Throws InvalidKeysError naming every key that
 * does not open, without quoting any bytes.
 */
export function openStoredKeys(keys: readonly StoredKey[], master: MasterKey, source: string): KeyEntry[] {
  const problems: { path: string; message: string }[] = [];
  const entries: KeyEntry[] = [];
  for (const key of keys) {
    if (key.deletedAt) continue;
    try {
      entries.push({
        name: key.name,
        type: key.type,
        primaryVersion: key.primaryVersion,
        minDecryptionVersion: key.minDecryptionVersion,
        versions: key.versions.map((v) => ({
          version: v.version,
          state: v.state,
          createdAt: v.createdAt,
          secret: master.unwrap({ name: key.name, version: v.version, type: key.type }, v.wrapped),
          ...(v.publicKey ? { publicKey: new Uint8Array(Buffer.from(v.publicKey, 'base64')) } : {}),
        })),
      });
    } catch (error) {
      if (!(error instanceof MasterKeyError)) throw error;
      problems.push({ path: key.name, message: error.message });
    }
  }
  if (problems.length > 0) {
    for (const entry of entries) for (const v of entry.versions) v.secret.fill(0);
    throw new InvalidKeysError(source, problems);
  }
  return entries;
}

/** A new stored version: the secret is wrapped here and the caller wipes its plaintext copy. */
export function wrapVersion(
  master: MasterKey,
  key: { name: string; type: KeyType },
  version: number,
  material: { secret: Uint8Array; publicKey?: Uint8Array },
  origin: StoredKeyVersion['origin'],
  now: Date,
): StoredKeyVersion {
  return {
    version,
    state: 'active',
    createdAt: now.toISOString(),
    origin,
    ...(material.publicKey ? { publicKey: Buffer.from(material.publicKey).toString('base64') } : {}),
    wrapped: master.wrap({ name: key.name, version, type: key.type }, material.secret),
  };
}
