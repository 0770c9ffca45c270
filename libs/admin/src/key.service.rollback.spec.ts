import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { SodiumProvider, type Sodium } from '@app/crypto';
import { WrappedFileKeystore, GenerationWatermark, KeystoreKeySource, ManifestAuthority, MasterKey, MasterKeyRing } from '@app/keystore';
import { AuditEvent, AuditLog, AuditSink } from './audit.log';
import { KeyService } from './key.service';

/*
 * The issue's attack on the file keystore: someone who can write the file but lacks the master
 * key keeps a copy, waits for `revoke v1` and `min-version 2`, and puts the old entry back; or
 * deletes an entry. Each record's own MAC still holds; the manifest is what refuses them.
 */
class MemorySink implements AuditSink {
  events: AuditEvent[] = [];
  describe = () => 'memory';
  close = async () => undefined;
  async append(event: AuditEvent): Promise<void> {
    this.events.push(event);
  }
}

describe('file keystore rollback and deletion (KeyService and a worker)', () => {
  let sodium: Sodium;
  let dir: string;
  let path: string;
  let ring: MasterKeyRing;
  let sink: MemorySink;
  let adminMark: GenerationWatermark;
  let service: KeyService;
  const ops = { tokenId: 'ops' };
  const errors: string[] = [];

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollback-spec-'));
    path = join(dir, 'keystore.json');
    ring = new MasterKeyRing(MasterKey.fromBytes(sodium, sodium.randombytes_buf(32)));
    sink = new MemorySink();
    adminMark = new GenerationWatermark(join(dir, 'generation.json'));
    service = adminOn(adminMark);
    errors.length = 0;
    jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    await service.create(ops, { name: 'rb', type: 'symmetric', exportable: true });
    await service.create(ops, { name: 'other', type: 'symmetric', exportable: false });
    await service.rotate(ops, 'rb');
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  function store(mark: GenerationWatermark): WrappedFileKeystore {
    return new WrappedFileKeystore(path, ring.current.id, [ring.current.id], new ManifestAuthority(ring, mark));
  }
  function adminOn(mark: GenerationWatermark): KeyService {
    return new KeyService({ store: store(mark), masters: ring, sodium, audit: new AuditLog([sink]), keyUsage: () => new Map() });
  }
  /** A worker process: its own store and memory; loads what it would use. */
  async function workerLoad(mark = new GenerationWatermark()): Promise<string[]> {
    const source = new KeystoreKeySource(store(mark), ring);
    return (await source.load()).map((e) => `${e.name} min=${e.minDecryptionVersion} ${e.versions.map((v) => `v${v.version}:${v.state}`).join(',')}`);
  }
  const doc = () => JSON.parse(readFileSync(path, 'utf8')) as { keys: Array<{ name: string }>; manifest?: unknown };
  const write = (d: object) => writeFileSync(path, JSON.stringify(d));

  it('refuses an old, still-MACd entry put back after revoke and min-version, everywhere; the other key keeps working', async () => {
    const copy = doc();
    await service.revoke(ops, 'rb', 1);
    await service.setMinDecryptionVersion(ops, 'rb', 2);
    const worker = new GenerationWatermark();
    expect(await workerLoad(worker)).toEqual(['other min=1 v1:active', 'rb min=2 v1:revoked,v2:active']);

    const now = doc();
    write({ ...now, keys: now.keys.map((k) => (k.name === 'rb' ? copy.keys.find((c) => c.name === 'rb') : k)) });

    await expect(service.get(ops, 'rb')).rejects.toMatchObject({
      status: 409,
      code: 'integrity-failed',
      message: expect.stringMatching(/revision 2 is not the one the manifest lists \(revision 4/),
    });
    await expect(service.export(ops, 'rb')).rejects.toMatchObject({ code: 'integrity-failed' });
    await expect(service.rotate(ops, 'rb')).rejects.toMatchObject({ code: 'integrity-failed' });
    expect((await service.list(ops, false)).map((k) => k.name)).toEqual(['other']);
    expect(await workerLoad(worker)).toEqual(['other min=1 v1:active']);
    expect(await workerLoad()).toEqual(['other min=1 v1:active']); // a fresh process too
    expect(errors.filter((e) => e.includes('rb')).length).toBeGreaterThan(0);
    // Audited once, however often it is read.
    expect(sink.events.filter((e) => e.action === 'integrity-check')).toEqual([
      expect.objectContaining({ key: 'rb', result: 'failed', status: 409, code: 'integrity-failed' }),
    ]);
  });

  it('notices a deleted entry', async () => {
    const now = doc();
    write({ ...now, keys: now.keys.filter((k) => k.name !== 'other') });
    await expect(service.get(ops, 'other')).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/listed in the keystore manifest at revision 1 .*but missing/),
    });
    await expect(service.create(ops, { name: 'other', type: 'symmetric', exportable: true })).rejects.toMatchObject({ code: 'integrity-failed' });
    expect(await workerLoad()).toEqual(['rb min=1 v1:active,v2:active']);
    expect(errors.some((e) => /key other in .*missing/.test(e))).toBe(true);
  });

  it('refuses a whole older file once a newer one was seen, also after the admin restarts; a fresh process cannot tell', async () => {
    const copy = readFileSync(path);
    await service.revoke(ops, 'rb', 1);
    const worker = new GenerationWatermark();
    await workerLoad(worker);
    await adminMark.flushed();
    writeFileSync(path, copy);

    await expect(service.get(ops, 'rb')).rejects.toMatchObject({
      code: 'keystore-rollback',
      message: expect.stringMatching(/generation 3, older than generation 4 seen before/),
    });
    await expect(service.rotate(ops, 'other')).rejects.toMatchObject({ code: 'keystore-rollback' });
    const restarted = adminOn(new GenerationWatermark(join(dir, 'generation.json')));
    await expect(restarted.list(ops, false)).rejects.toMatchObject({ code: 'keystore-rollback' });
    await expect(workerLoad(worker)).rejects.toMatchObject({ code: 'keystore-rollback' });
    expect(sink.events).toContainEqual(expect.objectContaining({ action: 'integrity-check', code: 'keystore-rollback', status: 409 }));
    // The documented limit: a process that never saw generation 4.
    expect(await workerLoad()).toEqual(['other min=1 v1:active', 'rb min=1 v1:active,v2:active']);
  });

  it('refuses a file whose manifest was removed or altered', async () => {
    const { manifest, ...rest } = doc() as { manifest: { generation: number }; keys: unknown[] };
    write(rest);
    await expect(service.list(ops, false)).rejects.toMatchObject({ code: 'keystore-manifest-missing' });
    write({ ...rest, manifest: { ...manifest, generation: manifest.generation + 10 } });
    await expect(service.list(ops, false)).rejects.toMatchObject({ code: 'keystore-manifest-invalid' });
  });

  it('takes over a keystore written before manifests, vouching only for entries whose MAC holds', async () => {
    const { manifest: _m, ...legacy } = doc() as { manifest: unknown; keys: Array<{ name: string; exportable: boolean }> };
    const fresh = new GenerationWatermark();
    write({ ...legacy, keys: legacy.keys.map((k) => (k.name === 'other' ? { ...k, exportable: true } : k)) });
    const admin = adminOn(fresh);
    expect((await admin.list(ops, false)).map((k) => k.name)).toEqual(['rb']); // other fails its record MAC
    await admin.rotate(ops, 'rb');
    expect(Object.keys((doc().manifest as { keys: object }).keys)).toEqual(['rb']);
    await expect(admin.get(ops, 'other')).rejects.toMatchObject({ message: expect.stringMatching(/not in the keystore manifest/) });
  });
});
