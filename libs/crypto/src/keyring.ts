import { CryptoError } from './crypto.errors';
import { InvalidKeysError } from './invalid-keys.error';
import { findKeyEntryProblems } from './key-entry.rules';

/** `symmetric`: XChaCha20-Poly1305 key shared with publishers. `sealed`: X25519 key pair, publishers hold the public half. */
export type KeyType = 'symmetric' | 'sealed';
export type KeyState = 'active' | 'revoked';

export interface KeyVersion {
  version: number;
  state: KeyState;
  /** ISO 8601 date-time. */
  createdAt: string;
  /** 32-byte symmetric key, or the X25519 secret key. */
  secret: Uint8Array;
  /** X25519 public key, sealed keys only. */
  publicKey?: Uint8Array;
}

export interface KeyEntry {
  name: string;
  type: KeyType;
  /** The version new envelopes are sealed with. */
  primaryVersion: number;
  /** Envelopes with an older key version are refused (`key-revoked`), whatever the version's state. */
  minDecryptionVersion: number;
  versions: KeyVersion[];
}

/** One version of one key, resolved for sealing or opening. */
export interface KeyMaterial {
  readonly name: string;
  readonly type: KeyType;
  readonly version: number;
  readonly secret: Uint8Array;
  readonly publicKey?: Uint8Array;
}

interface ResolvedEntry {
  readonly name: string;
  readonly type: KeyType;
  readonly primaryVersion: number;
  readonly minDecryptionVersion: number;
  readonly states: ReadonlyMap<number, KeyState>;
  readonly material: ReadonlyMap<number, KeyMaterial>;
  /** The primary version's material and whether it is revoked, resolved once rather than per message. */
  readonly primary: KeyMaterial;
  readonly primaryRevoked: boolean;
  /** Versions that open envelopes: present, not revoked, at or above the minimum decryption version. */
  readonly openable: ReadonlyMap<number, KeyMaterial>;
}

/**
 * An immutable snapshot of the keys: a keystore change builds a new Keyring and swaps it in.
 * It holds its own copies of every secret, so wiping an old keyring never zeroes the keys a
 * newer one (or the caller) still uses.
 */
export class Keyring {
  private wiped = false;

  private constructor(private readonly entries: ReadonlyMap<string, ResolvedEntry>) {}

  /** Throws InvalidKeysError listing every broken invariant. */
  static from(entries: readonly KeyEntry[]): Keyring {
    const problems = findKeyEntryProblems(entries);
    if (problems.length > 0) throw new InvalidKeysError('keyring', problems);
    return new Keyring(new Map(entries.map((entry) => [entry.name, resolve(entry)])));
  }

  /** The primary version of `name`, used for every new envelope. */
  encryptionKey(name: string): KeyMaterial {
    const entry = this.entry(name);
    if (entry.primaryRevoked) {
      throw new CryptoError('key-revoked', 'primary version is revoked; rotate the key', { keyName: name, keyVersion: entry.primary.version });
    }
    return entry.primary;
  }

  /** The key that opens envelopes sealed with `name` v`version`, if that version is still trusted. */
  decryptionKey(name: string, version: number): KeyMaterial {
    const entry = this.entry(name);
    const openable = entry.openable.get(version);
    if (openable) return openable;
    const key = entry.material.get(version);
    const who = { keyName: name, keyVersion: version };
    if (!key) throw new CryptoError('key-unknown', 'no such key version in the keyring', who);
    if (entry.states.get(version) === 'revoked') throw new CryptoError('key-revoked', 'key version is revoked', who);
    if (version < entry.minDecryptionVersion) {
      throw new CryptoError('key-revoked', `key version is below the minimum decryption version ${entry.minDecryptionVersion}`, who);
    }
    return key;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  typeOf(name: string): KeyType | undefined {
    return this.entries.get(name)?.type;
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  get isWiped(): boolean {
    return this.wiped;
  }

  /**
   * Zeroes every secret this keyring holds; any later lookup fails with `key-unknown`. Seal and
   * open are synchronous, so wiping a keyring right after swapping in its successor cannot cut
   * an operation in half.
   *
   * Uses `fill(0)` rather than `sodium.memzero`: for arrays on the JavaScript heap memzero is
   * the same plain loop (its guarantees only hold inside the WebAssembly heap), and this keeps
   * the keyring free of a libsodium dependency. Neither removes copies the engine or the key
   * file's text left behind; this shortens the exposure window, it does not close it.
   */
  wipe(): void {
    this.wiped = true;
    for (const entry of this.entries.values()) {
      for (const key of entry.material.values()) key.secret.fill(0);
    }
  }

  private entry(name: string): ResolvedEntry {
    if (this.wiped) throw new CryptoError('key-unknown', 'keyring has been wiped', { keyName: name });
    const entry = this.entries.get(name);
    if (!entry) throw new CryptoError('key-unknown', 'no such key in the keyring', { keyName: name });
    return entry;
  }
}

function resolve(entry: KeyEntry): ResolvedEntry {
  const states = new Map<number, KeyState>();
  const material = new Map<number, KeyMaterial>();
  for (const v of entry.versions) {
    states.set(v.version, v.state);
    material.set(
      v.version,
      Object.freeze({
        name: entry.name,
        type: entry.type,
        version: v.version,
        secret: v.secret.slice(),
        publicKey: v.publicKey?.slice(),
      }),
    );
  }
  const openable = new Map<number, KeyMaterial>();
  for (const [version, key] of material) {
    if (states.get(version) !== 'revoked' && version >= entry.minDecryptionVersion) openable.set(version, key);
  }
  return {
    name: entry.name,
    type: entry.type,
    primaryVersion: entry.primaryVersion,
    minDecryptionVersion: entry.minDecryptionVersion,
    states,
    material,
    primary: material.get(entry.primaryVersion) as KeyMaterial,
    primaryRevoked: states.get(entry.primaryVersion) === 'revoked',
    openable,
  };
}
