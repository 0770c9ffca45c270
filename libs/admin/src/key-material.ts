import type { KeyType, Sodium } from '@app/crypto';
import { InvalidRequestError } from './admin.errors';

/** Key material as the API receives it for an import: base64 text. */
export interface KeyMaterialInput {
  /** 32 bytes: the XChaCha20-Poly1305 key, or the X25519 secret key of a sealed key. */
  secret: string;
  /** Sealed keys only; when given it must match the secret. */
  publicKey?: string;
}

const KEY_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes and checks imported material; problems name the field, never echo the value. */
/** `at` prefixes field names in problems (`material.` for a rotation's body). */
export function readKeyMaterial(sodium: Sodium, type: KeyType, input: KeyMaterialInput, at = ''): { secret: Uint8Array; publicKey?: Uint8Array } {
  const secret = decode(input.secret, `${at}secret`);
  if (type === 'symmetric') {
    if (input.publicKey !== undefined) {
      secret.fill(0);
      throw new InvalidRequestError([{ field: `${at}publicKey`, message: 'only sealed keys have a public key' }]);
    }
    return { secret };
  }
  const derived = sodium.crypto_scalarmult_base(secret);
  if (input.publicKey !== undefined) {
    const given = decode(input.publicKey, `${at}publicKey`);
    if (!sodium.memcmp(given, derived)) {
      secret.fill(0);
      throw new InvalidRequestError([{ field: `${at}publicKey`, message: 'does not belong to the given secret key' }]);
    }
  }
  return { secret, publicKey: derived };
}

function decode(text: string, field: string): Uint8Array {
  const pooled = BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (!pooled || pooled.length !== KEY_BYTES) {
    pooled?.fill(0);
    throw new InvalidRequestError([{ field, message: `must be base64 of exactly ${KEY_BYTES} bytes` }]);
  }
  const own = new Uint8Array(pooled);
  pooled.fill(0);
  return own;
}
