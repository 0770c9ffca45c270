import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlainKeyFile } from './plain-key.file';
import { InvalidKeysError } from './invalid-keys.error';
import { formatKeyFile } from './key-file';
import { Keyring } from './keyring';
import type { Sodium } from './sodium.provider';
import { readySodium, testEntries } from './testing/test-keys';

let sodium: Sodium;
let dir: string;
beforeAll(async () => {
  sodium = await readySodium();
  dir = await mkdtemp(join(tmpdir(), 'crypto-keystore-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function storeWith(content: string): Promise<PlainKeyFile> {
  const path = join(dir, `keys-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, content);
  return new PlainKeyFile(path);
}

async function failureOf(store: PlainKeyFile): Promise<InvalidKeysError> {
  const error = await store.load().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidKeysError);
  return error as InvalidKeysError;
}

const b64 = (length: number, fill: number): string => Buffer.alloc(length, fill).toString('base64');

describe('PlainKeyFile', () => {
  it('loads what formatKeyFile wrote, key bytes and all', async () => {
    const entries = testEntries(sodium);
    const loaded = await (await storeWith(formatKeyFile(entries))).load();
    expect(loaded).toEqual(entries);
    expect(Keyring.from(loaded).names()).toEqual(['box', 'sym']);
  });

  it('lists every problem with its JSON path and never echoes a key', async () => {
    const secrets = [b64(32, 0x11), b64(31, 0x22), 'c2VjcmV0LWtleS1ub3QtYmFzZTY0!!', b64(33, 0x33), b64(32, 0x44), b64(32, 0x55)];
    const file = {
      keys: [
        {
          name: 'good-name',
          type: 'symmetric',
          primaryVersion: 1,
          minDecryptionVersion: 1,
          versions: [
            { version: 1, state: 'active', createdAt: '2024-01-01T00:00:00Z', key: secrets[0] },
            { version: 2, state: 'active', createdAt: '2024-01-01T00:00:00Z', key: secrets[1] },
            { version: 3, state: secrets[4], createdAt: 'soon', key: secrets[2], extra: true },
          ],
        },
        { name: 'bad/name', type: secrets[5], primaryVersion: 0, minDecryptionVersion: 1.5, versions: [{ version: 1, key: secrets[3] }] },
        { name: 'x', type: 'sealed', primaryVersion: 1, minDecryptionVersion: 1, versions: [] },
      ],
    };
    const error = await failureOf(await storeWith(JSON.stringify(file)));
    expect(error.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'keys[0].versions[1].key: must be base64 of exactly 32 bytes',
      'keys[0].versions[2].state: expected one of "active", "revoked"',
      'keys[0].versions[2].createdAt: must be an ISO 8601 date-time',
      'keys[0].versions[2].key: must be base64 of exactly 32 bytes',
      'keys[0].versions[2]: unknown field(s): extra',
      'keys[1].name: must be 1..64 characters of [A-Za-z0-9._-]',
      'keys[1].type: expected one of "symmetric", "sealed"',
      'keys[1].primaryVersion: Number must be greater than or equal to 1',
      'keys[1].minDecryptionVersion: expected integer, got float',
      'keys[1].versions[0].state: required field is missing',
      'keys[1].versions[0].createdAt: required field is missing',
      'keys[1].versions[0].key: must be base64 of exactly 32 bytes',
      'keys[2].versions: Array must contain at least 1 element(s)',
    ]);
    expect(error.message).toContain(error.problems.length + ' problems');
    for (const secret of secrets) expect(error.message).not.toContain(secret);
  });

  it('checks cross-field rules once every field is well-formed', async () => {
    const [sym] = testEntries(sodium);
    const text = formatKeyFile([
      { ...sym, primaryVersion: 5 },
      { ...sym, type: 'sealed' },
    ]);
    const error = await failureOf(await storeWith(text));
    expect(error.problems.map((p) => p.path)).toEqual([
      'keys[0].primaryVersion',
      'keys[1].name',
      'keys[1].versions[0].publicKey',
      'keys[1].versions[1].publicKey',
    ]);
    expect(error.message).not.toContain(Buffer.from(sym.versions[0].secret).toString('base64'));
  });

  it('reports unreadable and unparsable files without quoting them', async () => {
    const secret = b64(32, 0x66);
    const broken = await failureOf(await storeWith(`{"keys": [{"key": "${secret}" oops`));
    expect(broken.message).toMatch(/not valid JSON/);
    expect(broken.message).not.toContain(secret);
    const missing = await failureOf(new PlainKeyFile(join(dir, 'missing.json')));
    expect(missing.message).toMatch(/cannot read the key file \(ENOENT\)/);
  });
});

describe('PlainKeyFile.save', () => {
  it('replaces the file atomically, owner-readable only, and loads back the same keys', async () => {
    const { stat, readdir } = await import('node:fs/promises');
    const store = new PlainKeyFile(join(dir, 'saved.json'));
    const entries = testEntries(sodium);
    await store.save(entries);
    await store.save(entries);
    const loaded = await store.load();
    expect(loaded.map((e) => [e.name, e.primaryVersion])).toEqual(entries.map((e) => [e.name, e.primaryVersion]));
    expect(Buffer.from(loaded[0].versions[0].secret).equals(Buffer.from(entries[0].versions[0].secret))).toBe(true);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
