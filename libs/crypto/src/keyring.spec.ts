import { CryptoError } from './crypto.errors';
import { InvalidKeysError } from './invalid-keys.error';
import { KeyEntry, Keyring } from './keyring';
import type { Sodium } from './sodium.provider';
import { fixedBytes, readySodium, sealedVersion, symmetricVersion, testEntries } from './testing/test-keys';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await readySodium();
});

function problemsOf(entries: KeyEntry[]): string[] {
  try {
    Keyring.from(entries);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidKeysError);
    return (error as InvalidKeysError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('Keyring', () => {
  it('resolves primary and decryption keys and describes its contents', () => {
    const keyring = Keyring.from(testEntries(sodium));
    expect(keyring.names()).toEqual(['box', 'sym']);
    expect([keyring.has('sym'), keyring.has('nope')]).toEqual([true, false]);
    expect([keyring.typeOf('sym'), keyring.typeOf('box'), keyring.typeOf('nope')]).toEqual(['symmetric', 'sealed', undefined]);
    expect(keyring.encryptionKey('sym')).toMatchObject({ name: 'sym', type: 'symmetric', version: 2 });
    expect(keyring.decryptionKey('sym', 1).secret).toEqual(fixedBytes(1));
    expect(keyring.encryptionKey('box').publicKey).toHaveLength(32);
  });

  it('distinguishes unknown, revoked and too-old versions', () => {
    const entry: KeyEntry = {
      name: 'k',
      type: 'symmetric',
      primaryVersion: 3,
      minDecryptionVersion: 2,
      versions: [symmetricVersion(1), { ...symmetricVersion(2), state: 'revoked' }, symmetricVersion(3)],
    };
    const keyring = Keyring.from([entry]);
    const codeOf = (run: () => unknown): string => {
      try {
        run();
        return 'ok';
      } catch (error) {
        return (error as CryptoError).code;
      }
    };
    expect(codeOf(() => keyring.decryptionKey('k', 1))).toBe('key-revoked');
    expect(codeOf(() => keyring.decryptionKey('k', 2))).toBe('key-revoked');
    expect(codeOf(() => keyring.decryptionKey('k', 3))).toBe('ok');
    expect(codeOf(() => keyring.decryptionKey('k', 4))).toBe('key-unknown');
    expect(codeOf(() => keyring.decryptionKey('x', 1))).toBe('key-unknown');
    expect(codeOf(() => Keyring.from([{ ...entry, primaryVersion: 2 }]).encryptionKey('k'))).toBe('key-revoked');
    expect(() => keyring.decryptionKey('k', 1)).toThrow('key-revoked: key version is below the minimum decryption version 2 (key "k" v1)');
  });

  it('is a snapshot: later changes to the input entries do not reach it', () => {
    const entries = testEntries(sodium);
    const keyring = Keyring.from(entries);
    entries[0].versions[0].secret.fill(0);
    entries[0].primaryVersion = 1;
    entries.pop();
    expect(keyring.decryptionKey('sym', 1).secret).toEqual(fixedBytes(1));
    expect(keyring.encryptionKey('sym').version).toBe(2);
    expect(keyring.has('box')).toBe(true);
  });

  it('wipe zeroes its own copies only and refuses later lookups', () => {
    const entries = testEntries(sodium);
    const keyring = Keyring.from(entries);
    const held = keyring.decryptionKey('sym', 1).secret;
    const successor = Keyring.from(entries);
    keyring.wipe();
    expect(keyring.isWiped).toBe(true);
    expect(held.every((b) => b === 0)).toBe(true);
    expect(entries[0].versions[0].secret).toEqual(fixedBytes(1));
    expect(successor.decryptionKey('sym', 1).secret).toEqual(fixedBytes(1));
    expect(() => keyring.encryptionKey('sym')).toThrow(/key-unknown: keyring has been wiped/);
  });

  it('lists every broken invariant with its path', () => {
    const sym = testEntries(sodium)[0];
    const problems = problemsOf([
      { ...sym, name: 'bad name' },
      sym,
      { ...sym },
      { ...sym, name: 'p', primaryVersion: 9, minDecryptionVersion: 0 },
      { ...sym, name: 'q', minDecryptionVersion: 3, versions: [symmetricVersion(1), symmetricVersion(2), symmetricVersion(1)] },
      { ...sym, name: 'r', versions: [] },
      { ...sym, name: 's', type: 'sealed', versions: [symmetricVersion(2)] },
      { ...sym, name: 't', versions: [{ ...sealedVersion(sodium, 2), secret: new Uint8Array(31) }] },
      { ...sym, name: 'u', versions: [{ ...symmetricVersion(2), state: 'lost' as never, createdAt: 'yesterday', version: 0 }] },
    ]);
    expect(problems).toEqual([
      'keys[0].name: must be 1..64 characters of [A-Za-z0-9._-]',
      'keys[2].name: duplicate key name "sym"',
      'keys[3].primaryVersion: must be one of the listed versions',
      'keys[3].minDecryptionVersion: must be an integer in 1..4294967295',
      'keys[4].versions[2].version: duplicate version 1',
      'keys[4].minDecryptionVersion: must not exceed primaryVersion',
      'keys[5].versions: needs at least one version',
      'keys[6].versions[0].publicKey: a sealed key needs a 32-byte public key',
      'keys[7].versions[0].secret: must be 32 bytes',
      'keys[7].versions[0].publicKey: a symmetric key has no public key',
      'keys[8].versions[0].version: must be an integer in 1..4294967295',
      'keys[8].versions[0].state: must be "active" or "revoked"',
      'keys[8].versions[0].createdAt: must be an ISO 8601 date-time',
      'keys[8].primaryVersion: must be one of the listed versions',
    ]);
  });
});
