import { isValidKeyName, isValidKeyVersion, KEY_NAME_MAX_LENGTH, MAX_KEY_VERSION } from './envelope';
import { formatKeyPath, KeyProblem } from './invalid-keys.error';
import type { KeyEntry, KeyVersion } from './keyring';

/** Every key in v1 is 32 bytes: XChaCha20-Poly1305 keys and both halves of an X25519 pair. */
export const KEY_BYTES = 32;
const KEY_TYPES: readonly unknown[] = ['symmetric', 'sealed'];
const KEY_STATES: readonly unknown[] = ['active', 'revoked'];

/**
 * Invariants every keyring relies on, checked on typed entries wherever they come from (a key
 * file, the admin service, a test). Paths use the key file's shape: `keys[i].versions[j]...`.
 */
export function findKeyEntryProblems(entries: readonly KeyEntry[]): KeyProblem[] {
  const problems: KeyProblem[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    const report = (message: string, ...rest: (string | number)[]): void => {
      problems.push({ path: formatKeyPath(['keys', i, ...rest]), message });
    };
    if (!isValidKeyName(entry.name)) report(`must be 1..${KEY_NAME_MAX_LENGTH} characters of [A-Za-z0-9._-]`, 'name');
    else if (seen.has(entry.name)) report(`duplicate key name "${entry.name}"`, 'name');
    seen.add(entry.name);
    if (!KEY_TYPES.includes(entry.type)) report('must be "symmetric" or "sealed"', 'type');
    checkVersions(entry, report);
  });
  return problems;
}

type Report = (message: string, ...path: (string | number)[]) => void;

function checkVersions(entry: KeyEntry, report: Report): void {
  if (!Array.isArray(entry.versions) || entry.versions.length === 0) {
    report('needs at least one version', 'versions');
    return;
  }
  const numbers = new Set<number>();
  entry.versions.forEach((v, j) => {
    if (!isValidKeyVersion(v.version)) report(`must be an integer in 1..${MAX_KEY_VERSION}`, 'versions', j, 'version');
    else if (numbers.has(v.version)) report(`duplicate version ${v.version}`, 'versions', j, 'version');
    numbers.add(v.version);
    checkVersionMaterial(entry, v, (message, ...rest) => report(message, 'versions', j, ...rest));
  });
  if (!numbers.has(entry.primaryVersion)) report('must be one of the listed versions', 'primaryVersion');
  if (!isValidKeyVersion(entry.minDecryptionVersion)) {
    report(`must be an integer in 1..${MAX_KEY_VERSION}`, 'minDecryptionVersion');
  } else if (entry.minDecryptionVersion > entry.primaryVersion) {
    // Otherwise the primary version could not open what it seals.
    report('must not exceed primaryVersion', 'minDecryptionVersion');
  }
}

function checkVersionMaterial(entry: KeyEntry, v: KeyVersion, report: Report): void {
  if (!KEY_STATES.includes(v.state)) report('must be "active" or "revoked"', 'state');
  if (typeof v.createdAt !== 'string' || Number.isNaN(Date.parse(v.createdAt))) report('must be an ISO 8601 date-time', 'createdAt');
  if (!isKeyBytes(v.secret)) report(`must be ${KEY_BYTES} bytes`, 'secret');
  if (entry.type === 'sealed' && !isKeyBytes(v.publicKey)) report(`a sealed key needs a ${KEY_BYTES}-byte public key`, 'publicKey');
  if (entry.type === 'symmetric' && v.publicKey !== undefined) report('a symmetric key has no public key', 'publicKey');
}

function isKeyBytes(value: unknown): boolean {
  return value instanceof Uint8Array && value.length === KEY_BYTES;
}
