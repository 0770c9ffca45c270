import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WrappedFileKeystore } from './wrapped-file.keystore';
import { KeystoreConflictError, KeystoreCorruptError } from './keystore';
import type { StoredKey } from './stored-key';

function key(name: string, revision: number): StoredKey {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    name,
    type: 'symmetric',
    exportable: false,
    createdAt: at,
    updatedAt: at,
    revision,
    primaryVersion: 1,
    minDecryptionVersion: 1,
    versions: [{ version: 1, state: 'active', createdAt: at, origin: 'generated', wrapped: 'AQID' }],
  };
}

describe('WrappedFileKeystore', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keystore-spec-'));
    path = join(dir, 'keystore.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty, writes with mode 0600 and reads back what it wrote', async () => {
    const store = new WrappedFileKeystore(path, 'kek-1');
    await store.open();
    expect(await store.list()).toEqual([]);
    const before = await store.fingerprint();
    await store.put(key('b', 1), 0);
    await store.put(key('a', 1), 0);
    expect((await store.list()).map((k) => k.name)).toEqual(['a', 'b']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await store.fingerprint()).not.toBe(before);
    expect(readdirSync(dir)).toEqual(['keystore.json']);
  });

  it('refuses a write based on a stale revision and changes nothing', async () => {
    const store = new WrappedFileKeystore(path, 'kek-1');
    await store.put(key('a', 1), 0);
    await expect(store.put(key('a', 1), 0)).rejects.toThrow(KeystoreConflictError);
    await store.put(key('a', 2), 1);
    await expect(store.put(key('a', 3), 1)).rejects.toThrow('changed meanwhile: revision 2, expected 1');
    await expect(store.remove('a', 1)).rejects.toThrow(KeystoreConflictError);
    expect((await store.list())[0].revision).toBe(2);
    await store.remove('a', 2);
    expect(await store.list()).toEqual([]);
  });

  it('serialises concurrent writes from one process: each sees the one before', async () => {
    const store = new WrappedFileKeystore(path, 'kek-1');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(key(`k${i}`, 1), 0)));
    expect(await store.list()).toHaveLength(20);
  });

  it('says which master key wrapped a keystore when another one is configured', async () => {
    await new WrappedFileKeystore(path, 'kek-1').put(key('a', 1), 0);
    await expect(new WrappedFileKeystore(path, 'kek-2').list()).rejects.toThrow('was wrapped with master key kek-1, the configured master key is kek-2');
  });

  it('reports a file that is not a keystore without quoting it', async () => {
    writeFileSync(path, '{"keys": "secret-looking-text"');
    await expect(new WrappedFileKeystore(path, 'kek-1').list()).rejects.toThrow(KeystoreCorruptError);
    writeFileSync(path, JSON.stringify({ format: 'bridge-keystore/1', masterKeyId: 'kek-1', keys: [{ name: 'x' }] }));
    const error = await new WrappedFileKeystore(path, 'kek-1').list().catch((e: Error) => e);
    expect(error).toBeInstanceOf(KeystoreCorruptError);
    expect((error as Error).message).toContain('keys.0');
  });

  it('removes temporary files a killed writer left behind, but not young ones', async () => {
    const old = join(dir, '.keystore.json.123.1.tmp');
    const young = join(dir, '.keystore.json.456.2.tmp');
    writeFileSync(old, 'partial');
    writeFileSync(young, 'in progress');
    utimesSync(old, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    await new WrappedFileKeystore(path, 'kek-1').open();
    expect(readdirSync(dir).sort()).toEqual(['.keystore.json.456.2.tmp']);
  });
});
