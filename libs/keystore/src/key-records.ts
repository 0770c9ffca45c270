import { findKeyEntryProblems, KeyEntry, KeyProblem, KeyType } from '@app/crypto';
import { MasterKey, MasterKeyError } from './master-key';
import type { MasterKeyRing } from './master-key-ring';
import { StoredKey, StoredKeyVersion } from './stored-key';

/** A stored key with its MAC checked: its metadata is what the admin service wrote. */
export function isAuthentic(key: StoredKey, masters: MasterKeyRing): boolean {
  return masters.signerOf(key) !== undefined;
}

/** Adds the MAC that isAuthentic() checks; call last, after every other field is final. */
export function signed(key: StoredKey, master: MasterKey): StoredKey {
  const { mac: _old, ...record } = key;
  return { ...record, mac: master.sign(record) };
}

/**
 * Unwraps the keys a worker should use. Soft-deleted keys are left out, so messages naming
 * them are dead-lettered as `key-unknown`; so is a key that fails its MAC, does not unwrap or
 * breaks a keyring rule, reported in `problems` (never with any bytes) while the other keys
 * stay usable.
 */
export function openStoredKeys(keys: readonly StoredKey[], masters: MasterKeyRing): { entries: KeyEntry[]; problems: KeyProblem[] } {
  const problems: KeyProblem[] = [];
  const entries: KeyEntry[] = [];
  for (const key of keys) {
    if (key.deletedAt) continue;
    const master = masters.signerOf(key);
    if (!master) {
      problems.push({
        path: key.name,
        message: `record not authenticated by master key ${masters.ids.join(' or ')} (altered, or written without it): not used`,
      });
      continue;
    }
    const versions: KeyEntry['versions'] = [];
    try {
      for (const v of key.versions) {
        versions.push({
          version: v.version,
          state: v.state,
          createdAt: v.createdAt,
          secret: master.unwrap({ name: key.name, version: v.version, type: key.type }, v.wrapped),
          ...(v.publicKey ? { publicKey: new Uint8Array(Buffer.from(v.publicKey, 'base64')) } : {}),
        });
      }
    } catch (error) {
      for (const v of versions) v.secret.fill(0);
      if (!(error instanceof MasterKeyError)) throw error;
      problems.push({ path: key.name, message: error.message });
      continue;
    }
    const entry: KeyEntry = { name: key.name, type: key.type, primaryVersion: key.primaryVersion, minDecryptionVersion: key.minDecryptionVersion, versions };
    const broken = findKeyEntryProblems([entry]);
    if (broken.length > 0) {
      for (const v of versions) v.secret.fill(0);
      problems.push(...broken.map((p) => ({ path: `${key.name} ${p.path}`, message: p.message })));
      continue;
    }
    entries.push(entry);
  }
  return { entries, problems };
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
