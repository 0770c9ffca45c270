import { InvalidKeysError } from './invalid-keys.error';
import { generateKeyEntry, revokeKeyVersion, rotateKeyEntry, setMinDecryptionVersion } from './key-lifecycle';
import { Keyring } from './keyring';
import type { Sodium } from './sodium.provider';
import { readySodium } from './testing/test-keys';

const NOW = new Date('2024-05-01T12:00:00.000Z');
let sodium: Sodium;
beforeAll(async () => {
  sodium = await readySodium();
});

describe('key lifecycle', () => {
  it('generates version 1 of a symmetric key and of a key pair', () => {
    const sym = generateKeyEntry(sodium, 'tenant-a', 'symmetric', NOW);
    expect(sym).toMatchObject({ name: 'tenant-a', type: 'symmetric', primaryVersion: 1, minDecryptionVersion: 1 });
    expect(sym.versions).toEqual([{ version: 1, state: 'active', createdAt: NOW.toISOString(), secret: expect.any(Uint8Array) }]);
    const sealed = generateKeyEntry(sodium, 'consumer.b', 'sealed', NOW);
    const [v1] = sealed.versions;
    expect(sodium.crypto_scalarmult_base(v1.secret)).toEqual(v1.publicKey);
    expect(generateKeyEntry(sodium, 'tenant-a', 'symmetric').versions[0].secret).not.toEqual(v1.secret);
  });

  it('refuses a key name the envelope cannot carry', () => {
    expect(() => generateKeyEntry(sodium, 'no spaces', 'symmetric')).toThrow(InvalidKeysError);
  });

  it('rotates to a new primary version without touching the input', () => {
    const v1 = generateKeyEntry(sodium, 'k', 'sealed', NOW);
    const before = v1.versions[0].secret.slice();
    const v2 = rotateKeyEntry(sodium, v1, new Date('2024-06-01T00:00:00Z'));
    expect(v2.primaryVersion).toBe(2);
    expect(v2.versions.map((v) => [v.version, v.state])).toEqual([
      [1, 'active'],
      [2, 'active'],
    ]);
    expect(v2.versions[1].createdAt).toBe('2024-06-01T00:00:00.000Z');
    expect(v2.versions[0].secret).toEqual(before);
    expect(v2.versions[0].secret).not.toBe(v1.versions[0].secret);
    expect(v1.versions).toHaveLength(1);
    expect(Keyring.from([v2]).encryptionKey('k').version).toBe(2);
  });

  it('revokes a version and raises the minimum decryption version', () => {
    const entry = rotateKeyEntry(sodium, generateKeyEntry(sodium, 'k', 'symmetric', NOW), NOW);
    const revoked = revokeKeyVersion(entry, 1);
    expect(revoked.versions.map((v) => v.state)).toEqual(['revoked', 'active']);
    expect(entry.versions[0].state).toBe('active');
    expect(() => revokeKeyVersion(entry, 5)).toThrow(/no version 5 to revoke/);
    expect(setMinDecryptionVersion(entry, 2).minDecryptionVersion).toBe(2);
    expect(() => setMinDecryptionVersion(entry, 3)).toThrow(/must not exceed primaryVersion/);
  });
});
