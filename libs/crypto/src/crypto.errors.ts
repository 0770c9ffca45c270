import { BridgeError } from '@app/core';

/** Every reason an envelope can be refused; stable codes for dead-letter records and metrics. */
export type CryptoReason =
  | 'envelope-malformed'
  | 'envelope-version'
  | 'envelope-algorithm'
  | 'algorithm-mismatch'
  | 'key-unknown'
  | 'key-not-allowed'
  | 'key-revoked'
  | 'topic-mismatch'
  | 'topic-unbound'
  | 'decrypt-failed';

export const CRYPTO_REASONS: readonly CryptoReason[] = [
  'envelope-malformed',
  'envelope-version',
  'envelope-algorithm',
  'algorithm-mismatch',
  'key-unknown',
  'key-not-allowed',
  'key-revoked',
  'topic-mismatch',
  'topic-unbound',
  'decrypt-failed',
];

/** Which key an error is about; only names and versions, never key bytes. */
export interface CryptoErrorKey {
  readonly keyName?: string;
  readonly keyVersion?: number;
}

/**
 * A payload could not be sealed or opened. Never retriable: the same bytes fail the same way.
 * The message carries the reason and the key name/version, never key bytes, nonces or plaintext.
 */
export class CryptoError extends BridgeError {
  readonly retriable = false;
  readonly keyName?: string;
  readonly keyVersion?: number;

  constructor(
    readonly code: CryptoReason,
    detail: string,
    key: CryptoErrorKey = {},
  ) {
    super(`${code}: ${detail}${describeKey(key)}`);
    this.keyName = key.keyName;
    this.keyVersion = key.keyVersion;
  }
}

function describeKey({ keyName, keyVersion }: CryptoErrorKey): string {
  if (keyName === undefined) return '';
  return keyVersion === undefined ? ` (key "${keyName}")` : ` (key "${keyName}" v${keyVersion})`;
}
