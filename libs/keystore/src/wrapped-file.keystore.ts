import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileFingerprint, writeFileAtomic } from '@app/core';
import { Keystore, KeystoreConflictError, KeystoreCorruptError, KeystoreIntegrityError, KeystoreSnapshot, KeystoreUnavailableError } from './keystore';
import type { KeystoreManifest, ManifestAuthority } from './keystore.manifest';
import { KEYSTORE_FORMAT, KeystoreDocument, keystoreDocumentSchema, StoredKey } from './stored-key';

const STALE_TEMPORARY_MS = 60_000;

/**
 * The embedded keystore: one JSON document (stored-key.ts) in a local file, mode 0600. Every
 * write replaces the file atomically (temporary file, fsync, rename, fsync of the directory),
 * so `kill -9` at any instant leaves the old document or the new one, never a torn one.
 * Writes from this process are serialised; one admin process should own the file.
 */
export class WrappedFileKeystore implements Keystore {
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `acceptedMasterKeyIds`: besides the current one, the ids a document may carry during a
   * master key rotation. `manifests`: keeps the document's manifest; without it (tooling,
   * tests) snapshot() vouches for every entry.
   */
  constructor(
    readonly path: string,
    private readonly masterKeyId: string,
    private readonly acceptedMasterKeyIds: readonly string[] = [masterKeyId],
    private readonly manifests?: ManifestAuthority,
  ) {}

  describe(): string {
    return this.path;
  }

  async open(): Promise<void> {
    await this.removeStaleTemporaries();
    await this.list();
  }

  async list(): Promise<StoredKey[]> {
    return (await this.read()).keys;
  }

  async snapshot(): Promise<KeystoreSnapshot> {
    const doc = await this.read();
    return this.manifests ? this.manifests.check(doc.keys, this.manifestOf(doc), this.path) : { keys: doc.keys, problems: [], generation: 0 };
  }

  put(key: StoredKey, expectedRevision: number): Promise<void> {
    return this.update(key.name, expectedRevision, key);
  }

  remove(name: string, expectedRevision: number): Promise<void> {
    return this.update(name, expectedRevision, undefined);
  }

  fingerprint(): Promise<string> {
    return fileFingerprint(this.path);
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  // `key` undefined: remove the entry.
  private update(name: string, expectedRevision: number, key: StoredKey | undefined): Promise<void> {
    const run = this.queue.then(async () => {
      const doc = await this.read();
      const previous = this.manifestOf(doc);
      // A rolled-back or forged document is refused here too, or this write would carry it forward.
      if (this.manifests) this.manifests.check(doc.keys, previous, this.path);
      const actual = doc.keys.find((k) => k.name === name)?.revision ?? 0;
      if (actual !== expectedRevision) throw new KeystoreConflictError(name, expectedRevision, actual);
      const keys = [...doc.keys.filter((k) => k.name !== name), ...(key ? [key] : [])].sort((a, b) => a.name.localeCompare(b.name));
      const manifest = this.manifests?.next(previous, doc.keys, name, key);
      // The document names the master key of its last write; records not yet re-wrapped carry their own MACs.
      await this.write({ ...doc, masterKeyId: this.masterKeyId, keys, ...(manifest ? { manifest } : {}) });
      // This process has now seen its own generation: the copy it replaced is a rollback from here on.
      if (manifest) this.manifests?.watermark.observe(manifest.generation);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private manifestOf(doc: KeystoreDocument): KeystoreManifest | undefined {
    if (!this.manifests || doc.manifest === undefined) return undefined;
    const manifest = this.manifests.parse(doc.manifest);
    if (!manifest)
      throw new KeystoreIntegrityError(
        'keystore-manifest-invalid',
        `keystore ${this.path}: its manifest is not signed by the master key (altered outside the admin service); nothing in it is used`,
      );
    return manifest;
  }

  private async read(): Promise<KeystoreDocument> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { format: KEYSTORE_FORMAT, masterKeyId: this.masterKeyId, keys: [] };
      throw new KeystoreUnavailableError(`cannot read the keystore ${this.path} (${code ?? 'read error'})`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new KeystoreCorruptError(`keystore ${this.path} is not valid JSON`);
    }
    const parsed = keystoreDocumentSchema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`);
      throw new KeystoreCorruptError(`keystore ${this.path} is not a ${KEYSTORE_FORMAT} document: ${where.join('; ')}`);
    }
    if (parsed.data.masterKeyId !== this.masterKeyId && !this.acceptedMasterKeyIds.includes(parsed.data.masterKeyId)) {
      throw new KeystoreCorruptError(
        `keystore ${this.path} was wrapped with master key ${parsed.data.masterKeyId}, the configured master key${this.acceptedMasterKeyIds.length > 1 ? 's are' : ' is'} ${[this.masterKeyId, ...this.acceptedMasterKeyIds.filter((id) => id !== this.masterKeyId)].join(', ')}`,
      );
    }
    return parsed.data;
  }

  private async write(doc: KeystoreDocument): Promise<void> {
    try {
      await writeFileAtomic(this.path, JSON.stringify(doc, null, 2) + '\n');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'write error';
      throw new KeystoreUnavailableError(`cannot write the keystore ${this.path} (${code})`, { cause: error });
    }
  }

  /**
   * A process killed between creating and renaming its temporary file leaves it behind. Only
   * old ones go: a younger one may be another process's write in progress.
   */
  private async removeStaleTemporaries(): Promise<void> {
    const dir = dirname(this.path);
    const prefix = `.${basename(this.path)}.`;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'))) {
      const file = join(dir, name);
      const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (age > STALE_TEMPORARY_MS) await unlink(file).catch(() => undefined);
    }
  }
}
