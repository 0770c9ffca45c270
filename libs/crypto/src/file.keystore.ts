import { readFile } from 'node:fs/promises';
import { InvalidKeysError } from './invalid-keys.error';
import { parseKeyFile } from './key-file';
import type { KeyEntry } from './keyring';

/** Where key entries come from; the bridge builds a new Keyring from each load. */
export interface KeyStore {
  load(): Promise<KeyEntry[]>;
}

/** Reads a JSON key file (format in key-file.ts); every load rereads the file. */
export class FileKeyStore implements KeyStore {
  constructor(readonly path: string) {}

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
}
