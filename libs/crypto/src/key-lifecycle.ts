import { MAX_KEY_VERSION } from './envelope';
import { InvalidKeysError } from './invalid-keys.error';
import { findKeyEntryProblems } from './key-entry.rules';
import type { KeyEntry, KeyType, KeyVersion } from './keyring';
import type { Sodium } from './sodium.provider';

/*
 * Key lifecycle steps for the admin service. Each returns a new entry (the input is left
 * alone, secrets included, so an entry held by a live keyring is never mutated) and validates
 * the result with the same rules as Keyring.from.
 */

/** A fresh key: version 1, active, primary. */
export function generateKeyEntry(sodium: Sodium, name: string, type: KeyType, now: Date = new Date()): KeyEntry {
  return checked({ name, type, primaryVersion: 1, minDecryptionVersion: 1, versions: [newVersion(sodium, type, 1, now)] });
}

/** Adds a version one above the highest and makes it primary; older versions keep decrypting. */
export function rotateKeyEntry(sodium: Sodium, entry: KeyEntry, now: Date = new Date()): KeyEntry {
  const next = Math.max(...entry.versions.map((v) => v.version)) + 1;
  if (next > MAX_KEY_VERSION) throw new InvalidKeysError(`key "${entry.name}"`, [{ path: 'versions', message: 'no key version left' }]);
  return checked({
    ...entry,
    primaryVersion: next,
    versions: [...entry.versions.map(copyVersion), newVersion(sodium, entry.type, next, now)],
  });
}

/** Marks one version revoked: envelopes sealed with it stop opening (`key-revoked`). */
export function revokeKeyVersion(entry: KeyEntry, version: number): KeyEntry {
  if (!entry.versions.some((v) => v.version === version)) {
    throw new InvalidKeysError(`key "${entry.name}"`, [{ path: 'versions', message: `no version ${version} to revoke` }]);
  }
  return checked({
    ...entry,
    versions: entry.versions.map((v) => (v.version === version ? { ...copyVersion(v), state: 'revoked' } : copyVersion(v))),
  });
}

/** Refuses every version below `version`, e.g. once all publishers have moved past a leaked key. */
export function setMinDecryptionVersion(entry: KeyEntry, version: number): KeyEntry {
  return checked({ ...entry, minDecryptionVersion: version, versions: entry.versions.map(copyVersion) });
}

function newVersion(sodium: Sodium, type: KeyType, version: number, now: Date): KeyVersion {
  const base = { version, state: 'active' as const, createdAt: now.toISOString() };
  if (type === 'symmetric') return { ...base, secret: sodium.crypto_aead_xchacha20poly1305_ietf_keygen() };
  const pair = sodium.crypto_box_keypair();
  return { ...base, secret: pair.privateKey, publicKey: pair.publicKey };
}

function copyVersion(v: KeyVersion): KeyVersion {
  return v.publicKey ? { ...v, secret: v.secret.slice(), publicKey: v.publicKey.slice() } : { ...v, secret: v.secret.slice() };
}

function checked(entry: KeyEntry): KeyEntry {
  const problems = findKeyEntryProblems([entry]);
  if (problems.length > 0) throw new InvalidKeysError(`key "${entry.name}"`, problems);
  return entry;
}
