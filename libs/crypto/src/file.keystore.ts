import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidKeysError } from './invalid-keys.error';
import { formatKeyFile, parseKeyFile } from './key-file';
import type { KeySource } from './key-source';
import type { KeyEntry } from './keyring';

/**
 * Reads a plain JSON key file (format in key-file.ts); every load rereads the file. Secrets
 * are in clear: for development and the `bridge keys` command. Production keys belong in a
 * wrapped keystore (@app/keystore) managed by the admin service.
 */
export class FileKeyStore implements KeySource {
  constructor(readonly path: string) {}

  describe(): string {
    return this.path;
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  /** Inode, size and mtime: an atomic replace (rename over) changes the inode. */
  async fingerprint(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  async load(): Promise<KeyEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'read error';
      throw new InvalidKeysError(this.path, [{ path: '', message: `cannot read the key file (${reason})` }]);
    }
    return parseKeyFile(text, this.path);
  }

  /**
   * Replaces the file atomically: write a temporary file beside it, fsync, rename over the
   * old one, fsync the directory. A crash at any point leaves either the old file or the new
   * one, never a torn one. The file is created readable by its owner only.
   */
  async save(entries: readonly KeyEntry[]): Promise<void> {
    const temp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.${Date.now()}.tmp`);
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(formatKeyFile(entries), 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
