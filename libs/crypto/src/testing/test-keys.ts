import type { KeyEntry, KeyVersion } from '../keyring';
import { SodiumProvider, type Sodium } from '../sodium.provider';

/*
 * Deterministic key material for specs (never for anything else): every byte derives from a
 * one-byte seed, so a failing spec reproduces exactly.
 */

export function readySodium(): Promise<Sodium> {
  return new SodiumProvider().ready();
}

export function fixedBytes(seed: number, length = 32): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

export function symmetricVersion(version: number, seed = version): KeyVersion {
  return { version, state: 'active', createdAt: '2024-01-01T00:00:00.000Z', secret: fixedBytes(seed) };
}

export function sealedVersion(sodium: Sodium, version: number, seed = version + 100): KeyVersion {
  const pair = sodium.crypto_box_seed_keypair(fixedBytes(seed));
  return { version, state: 'active', createdAt: '2024-01-01T00:00:00.000Z', secret: pair.privateKey, publicKey: pair.publicKey };
}

/** `sym` (symmetric, v1 and v2, primary 2) and `box` (sealed, v1). */
export function testEntries(sodium: Sodium): KeyEntry[] {
  return [
    { name: 'sym', type: 'symmetric', primaryVersion: 2, minDecryptionVersion: 1, versions: [symmetricVersion(1), symmetricVersion(2)] },
    { name: 'box', type: 'sealed', primaryVersion: 1, minDecryptionVersion: 1, versions: [sealedVersion(sodium, 1)] },
  ];
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}
