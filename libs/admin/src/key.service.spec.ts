import { SodiumProvider, type Sodium } from '@app/crypto';
import { Keystore, KeystoreConflictError, KeystoreSnapshot, MasterKey, MasterKeyRing, openStoredKeys, StoredKey } from '@app/keystore';
import { AuditEvent, AuditLog, AuditSink } from './audit.log';
import { KeyChange, KeyService } from './key.service';

/** An in-memory keystore with the same revision rule as the real ones. */
class MemoryKeystore implements Keystore {
  keys = new Map<string, StoredKey>();
  describe = () => 'memory';
  open = async () => undefined;
  close = async () => undefined;
  fingerprint = async () => String(this.keys.size);
  async list(): Promise<StoredKey[]> {
    return [...this.keys.values()].map((k) => structuredClone(k));
  }
  async snapshot(): Promise<KeystoreSnapshot> {
    return { keys: await this.list(), problems: [], generation: 0 };
  }
  async put(key: StoredKey, expected: number): Promise<void> {
    const actual = this.keys.get(key.name)?.revision ?? 0;
    if (actual !== expected) throw new KeystoreConflictError(key.name, expected, actual);
    this.keys.set(key.name, structuredClone(key));
  }
  async remove(name: string, expected: number): Promise<void> {
    const actual = this.keys.get(name)?.revision ?? 0;
    if (actual !== expected) throw new KeystoreConflictError(name, expected, actual);
    this.keys.delete(name);
  }
}

class MemorySink implements AuditSink {
  events: AuditEvent[] = [];
  lines: string[] = [];
  describe = () => 'memory';
  close = async () => undefined;
  async append(event: AuditEvent, line: string): Promise<void> {
    this.events.push(event);
    this.lines.push(line);
  }
}

describe('KeyService', () => {
  let sodium: Sodium;
  let store: MemoryKeystore;
  let sink: MemorySink;
  let master: MasterKeyRing;
  let changes: KeyChange[];
  let usage: Map<string, string[]>;
  let service: KeyService;
  const ops = { tokenId: 'ops', remote: '127.0.0.1' };

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
  });

  beforeEach(() => {
    store = new MemoryKeystore();
    sink = new MemorySink();
    master = new MasterKeyRing(MasterKey.fromBytes(sodium, sodium.randombytes_buf(32)));
    changes = [];
    usage = new Map();
    service = new KeyService({ store, masters: master, sodium, audit: new AuditLog([sink]), keyUsage: () => usage, onChange: (c) => changes.push(c) });
  });

  it('creates keys wrapped by the master key, shows only metadata, and announces the change', async () => {
    const view = await service.create(ops, { name: 'k', type: 'sealed', exportable: false });
    expect(view).toMatchObject({ name: 'k', type: 'sealed', state: 'enabled', revision: 1, primaryVersion: 1, usedBy: [] });
    expect(JSON.stringify(view)).not.toContain('wrapped');
    const [entry] = openStoredKeys(await store.list(), master).entries;
    expect(Buffer.from(sodium.crypto_scalarmult_base(entry.versions[0].secret)).toString('base64')).toBe(view.versions[0].publicKey);
    expect(changes).toEqual([{ key: 'k', action: 'create', revision: 1 }]);
    expect(sink.events[0]).toMatchObject({ tokenId: 'ops', action: 'create', key: 'k', version: 1, result: 'ok', status: 201 });
  });

  it('imports material, derives the public key of a sealed key and refuses one that does not match', async () => {
    const pair = sodium.crypto_box_keypair();
    const secret = Buffer.from(pair.privateKey).toString('base64');
    const view = await service.import(ops, { name: 's', type: 'sealed', exportable: true, secret });
    expect(view.versions[0]).toMatchObject({ origin: 'imported', publicKey: Buffer.from(pair.publicKey).toString('base64') });
    const wrongPublic = Buffer.from(sodium.crypto_box_keypair().publicKey).toString('base64');
    await expect(service.import(ops, { name: 's2', type: 'sealed', exportable: false, secret, publicKey: wrongPublic })).rejects.toMatchObject({
      status: 400,
      problems: [{ field: 'publicKey', message: 'does not belong to the given secret key' }],
    });
    expect((await service.export(ops, 's')).versions).toEqual([{ version: 1, secret, publicKey: Buffer.from(pair.publicKey).toString('base64') }]);
  });

  it('rotates to a new primary version and keeps the old ones', async () => {
    await service.create(ops, { name: 'k', type: 'symmetric', exportable: true });
    const view = await service.rotate(ops, 'k');
    expect([view.primaryVersion, view.revision, view.versions.map((v) => v.version)]).toEqual([2, 2, [1, 2]]);
    const exported = await service.export(ops, 'k');
    expect(exported.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(exported.versions[0].secret).not.toBe(exported.versions[1].secret);
  });

  it('refuses what would break decryption or leak a key, and audits the refusal', async () => {
    await service.create(ops, { name: 'k', type: 'symmetric', exportable: false });
    await expect(service.revoke(ops, 'k', 1)).rejects.toMatchObject({ status: 409, code: 'primary-version' });
    await expect(service.export(ops, 'k')).rejects.toMatchObject({ status: 409, code: 'not-exportable' });
    await expect(service.setMinDecryptionVersion(ops, 'k', 2)).rejects.toMatchObject({ status: 404 });
    await expect(service.create(ops, { name: 'k', type: 'symmetric', exportable: false })).rejects.toMatchObject({ status: 409, code: 'key-exists' });
    await expect(service.rotate(ops, 'missing')).rejects.toMatchObject({ status: 404 });
    expect(sink.events.filter((e) => e.result === 'failed').map((e) => [e.action, e.status, e.code])).toEqual([
      ['revoke', 409, 'primary-version'],
      ['export', 409, 'not-exportable'],
      ['set-min-decryption-version', 404, 'version-not-found'],
      ['create', 409, 'key-exists'],
      ['rotate', 404, 'key-not-found'],
    ]);
    expect((await store.list())[0].revision).toBe(1);
  });

  it('soft-deletes, restores and purges, but not a key a rule uses', async () => {
    await service.create(ops, { name: 'k', type: 'symmetric', exportable: false });
    usage.set('k', ['rule-a']);
    await expect(service.delete(ops, 'k')).rejects.toMatchObject({ status: 409, code: 'key-in-use', message: expect.stringContaining('rule-a') });
    usage.clear();
    expect((await service.delete(ops, 'k')).state).toBe('deleted');
    expect(openStoredKeys(await store.list(), master).entries).toEqual([]);
    await expect(service.get(ops, 'k')).resolves.toMatchObject({ state: 'deleted' });
    await expect(service.rotate(ops, 'k')).rejects.toMatchObject({ status: 404, message: expect.stringContaining('restore it first') });
    expect((await service.restore(ops, 'k')).state).toBe('enabled');
    await service.delete(ops, 'k');
    await expect(service.purge(ops, 'k', 'K')).rejects.toMatchObject({ status: 400 });
    await service.purge(ops, 'k', 'k');
    expect(await store.list()).toEqual([]);
  });

  it('turns a concurrent change into a 409 instead of overwriting it', async () => {
    await service.create(ops, { name: 'k', type: 'symmetric', exportable: false });
    const put = store.put.bind(store);
    store.put = async (key, expected) => {
      await put({ ...(await store.list())[0], revision: 2 }, 1); // another replica got there first
      return put(key, expected);
    };
    await expect(service.rotate(ops, 'k')).rejects.toMatchObject({ status: 409, code: 'concurrent-change' });
  });

  it('refuses a record whose policy was loosened outside the service, and workers do not use it', async () => {
    await service.create(ops, { name: 'k', type: 'symmetric', exportable: false });
    const stored = store.keys.get('k')!;
    store.keys.set('k', { ...stored, exportable: true });
    await expect(service.export(ops, 'k')).rejects.toMatchObject({ status: 409, code: 'integrity-failed' });
    expect(await service.list(ops, false)).toEqual([]);
    const opened = openStoredKeys(await store.list(), master);
    expect([opened.entries, opened.problems.map((p) => p.path)]).toEqual([[], ['k']]);
    store.keys.set('k', stored);
    expect(openStoredKeys(await store.list(), master).entries.map((e) => e.name)).toEqual(['k']);
  });

  it('records an export before unwrapping, and refuses it (503) when the audit log cannot be written', async () => {
    await service.create(ops, { name: 'k', type: 'symmetric', exportable: true });
    await service.export(ops, 'k');
    expect(sink.events.slice(-2).map((e) => [e.action, e.result])).toEqual([
      ['export', 'requested'],
      ['export', 'ok'],
    ]);
    sink.append = async () => {
      throw new Error('disk full');
    };
    await expect(service.export(ops, 'k')).rejects.toMatchObject({ status: 503, code: 'audit-unavailable' });
  });

  it('re-wraps every key under a new master key; the old one can then be dropped', async () => {
    await service.create(ops, { name: 'a', type: 'symmetric', exportable: true });
    await service.create(ops, { name: 'b', type: 'sealed', exportable: true });
    await service.rotate(ops, 'a');
    await service.delete(ops, 'b');
    const before = await service.export(ops, 'a');
    const next = new MasterKeyRing(MasterKey.fromBytes(sodium, sodium.randombytes_buf(32)), [master.current]);
    const rotated = new KeyService({ store, masters: next, sodium, audit: new AuditLog([sink]), keyUsage: () => usage });
    expect((await rotated.masterKeyStatus(ops)).keysByMasterKey).toEqual({ [next.current.id]: 0, [master.current.id]: 2 });
    expect(await rotated.rewrap(ops)).toEqual({ rewrapped: ['a', 'b'], current: next.current.id });
    expect((await rotated.rewrap(ops)).rewrapped).toEqual([]);
    const alone = new KeyService({ store, masters: new MasterKeyRing(next.current), sodium, audit: new AuditLog([sink]), keyUsage: () => usage });
    expect(await alone.export(ops, 'a')).toEqual(before);
    expect((await alone.get(ops, 'b')).state).toBe('deleted');
    expect(openStoredKeys(await store.list(), new MasterKeyRing(master.current)).entries).toEqual([]);
  });

  it('never writes key material to the audit log', async () => {
    const secret = Buffer.from(sodium.randombytes_buf(32)).toString('base64');
    await service.import(ops, { name: 'k', type: 'symmetric', exportable: true, secret });
    await service.export(ops, 'k');
    expect(sink.lines.join('\n')).not.toContain(secret);
  });
});
