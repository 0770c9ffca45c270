import { readFile } from 'node:fs/promises';
import { fileFingerprint, writeFileAtomic } from '@app/core';
import { InvalidKeysError } from './invalid-keys.error';
import { formatKeyFile, parseKeyFile } from './key-file';
import type { KeySource } from './key-source';
import type { KeyEntry } from './keyring';

/**
 * Reads a plain JSON key file (format in key-file.ts); every load rereads the file. Secrets
 * are in clear: for development and the `bridge keys` command. Production keys belong in a
 * wrapped keystore (@app/keystore) managed by the admin service.
 */
export class PlainKeyFile implements KeySource {
  constructor(readonly path: string) {}

  describe(): string {
    return this.path;
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  fingerprint(): Promise<string> {
    return fileFingerprint(this.path);
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

  /** Replaces the file atomically (see writeFileAtomic), readable by its owner only. */
  save(entries: readonly KeyEntry[]): Promise<void> {
    return writeFileAtomic(this.path, formatKeyFile(entries));
  }
}
