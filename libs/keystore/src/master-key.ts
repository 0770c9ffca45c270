import { randomFillSync } from 'node:crypto';
import type { KeyType, Sodium } from '@app/crypto';
import { BridgeError } from '@app/core';

/** Wrapped secrets start with this byte, so a later wrapping scheme can be told apart. */
const WRAP_FORMAT = 1;
const NONCE_BYTES = 24;
const MASTER_KEY_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Where a wrapped secret belongs; bound into the ciphertext so records cannot be swapped. */
export interface WrapContext {
  readonly name: string;
  readonly version: number;
  readonly type: KeyType;
}

/**
 * What a MAC authenticates: a key record, the store-wide manifest (keystore.manifest.ts) or a
 * control event. The record label predates the others and must not change (stored MACs use it).
 */
export type MacPurpose = 'record' | 'manifest' | 'control';
const MAC_LABELS: Record<MacPurpose, string> = {
  record: 'bridge-keystore/1 record mac',
  manifest: 'bridge-keystore/1 manifest mac',
  control: 'bridge-control/1 event mac',
};

/** A master key that fails to load or does not open the keystore; never quotes key bytes. */
export class MasterKeyError extends BridgeError {
  readonly retriable = false;
  readonly code = 'master-key';

  constructor(message: string) {
    super(message);
  }
}

/**
 * The key-encryption key: wraps every key secret before it is written to a keystore, with
 * XChaCha20-Poly1305 and the key's name, version and type as associated data. It lives only in
 * memory, read from a file or an environment variable that is never beside the keystore.
 */
export class MasterKey {
  /** Public fingerprint: lets a keystore say which master key wrapped it, so a wrong one fails clearly. */
  readonly id: string;

  private constructor(
    private readonly sodium: Sodium,
    private readonly key: Uint8Array,
  ) {
    const digest = sodium.crypto_generichash(8, key, utf8('bridge master key id'));
    this.id = `kek-${Buffer.from(digest).toString('hex')}`;
  }

  /** Parses base64 of 32 bytes (surrounding whitespace allowed); `source` names where it came from. */
  static fromText(sodium: Sodium, text: string, source: string): MasterKey {
    const trimmed = text.trim();
    const pooled = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
    if (!pooled || pooled.length !== MASTER_KEY_BYTES) {
      pooled?.fill(0);
      throw new MasterKeyError(`the master key from ${source} must be base64 of exactly ${MASTER_KEY_BYTES} bytes (make one with: openssl rand -base64 32)`);
    }
    const own = new Uint8Array(pooled);
    pooled.fill(0);
    return new MasterKey(sodium, own);
  }

  static fromBytes(sodium: Sodium, bytes: Uint8Array): MasterKey {
    if (bytes.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`a master key is ${MASTER_KEY_BYTES} bytes`);
    return new MasterKey(sodium, bytes.slice());
  }

  /** Base64 of format byte, nonce and ciphertext. */
  wrap(context: WrapContext, secret: Uint8Array): string {
    const nonce = randomFillSync(new Uint8Array(NONCE_BYTES));
    const sealed = this.sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, associatedData(context), null, nonce, this.key);
    const out = Buffer.alloc(1 + NONCE_BYTES + sealed.length);
    out[0] = WRAP_FORMAT;
    out.set(nonce, 1);
    out.set(sealed, 1 + NONCE_BYTES);
    return out.toString('base64');
  }

  /** Throws MasterKeyError when the text was not wrapped by this key for this context. */
  unwrap(context: WrapContext, wrapped: string): Uint8Array {
    const bytes = BASE64.test(wrapped) ? Buffer.from(wrapped, 'base64') : Buffer.alloc(0);
    if (bytes.length <= 1 + NONCE_BYTES || bytes[0] !== WRAP_FORMAT) {
      throw new MasterKeyError(`key "${context.name}" v${context.version}: wrapped secret is malformed`);
    }
    try {
      return this.sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        bytes.subarray(1 + NONCE_BYTES),
        associatedData(context),
        bytes.subarray(1, 1 + NONCE_BYTES),
        this.key,
      );
    } catch {
      throw new MasterKeyError(
        `key "${context.name}" v${context.version}: does not open with master key ${this.id} (wrong master key, or the record was altered)`,
      );
    }
  }

  /**
   * Authenticates a whole record (metadata included: exportable, states, minimum version,
   * deletion), so whoever can write the store but lacks the master key cannot loosen a key's
   * policy. HMAC-SHA-512-256 over the record's canonical JSON, with a key derived for this use.
   */
  sign(record: object, purpose: MacPurpose = 'record'): string {
    return Buffer.from(this.sodium.crypto_auth(canonicalJson(record), this.macKey(purpose))).toString('base64');
  }

  /** True when `mac` was made by sign() over this record with this master key for the same purpose. */
  verify(record: object, mac: string | undefined, purpose: MacPurpose = 'record'): boolean {
    if (!mac || !BASE64.test(mac)) return false;
    const tag = Buffer.from(mac, 'base64');
    if (tag.length !== this.sodium.crypto_auth_BYTES) return false;
    return this.sodium.crypto_auth_verify(tag, canonicalJson(record), this.macKey(purpose));
  }

  wipe(): void {
    this.key.fill(0);
  }

  // One key per purpose, so a MAC made for one kind of object can never pass as another's.
  private macKey(purpose: MacPurpose): Uint8Array {
    return this.sodium.crypto_generichash(this.sodium.crypto_auth_KEYBYTES, utf8(MAC_LABELS[purpose]), this.key);
  }
}

/** JSON with object keys sorted at every level: one byte string per record, whatever built it. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function associatedData(context: WrapContext): Uint8Array {
  return utf8(`bridge-keystore/1\0${context.name}\0${context.version}\0${context.type}`);
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
