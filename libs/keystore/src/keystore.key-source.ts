import { Logger } from '@nestjs/common';
import type { KeyEntry, KeySource } from '@app/crypto';
import { openStoredKeys } from './key-records';
import type { Keystore } from './keystore';
import type { MasterKeyRing } from './master-key-ring';

/** A worker's view of a wrapped keystore: unwraps on every load, skips soft-deleted keys. */
export class KeystoreKeySource implements KeySource {
  private readonly log = new Logger('Keystore');

  constructor(
    private readonly store: Keystore,
    private readonly masters: MasterKeyRing,
  ) {}

  describe(): string {
    return this.store.describe();
  }

  open(): Promise<void> {
    return this.store.open();
  }

  /**
   * Keys that cannot be used are logged and left out; the others load. A store that fails as a
   * whole (rollback) throws, so the worker keeps its current keyring and retries at the next poll.
   */
  async load(): Promise<KeyEntry[]> {
    const snapshot = await this.store.snapshot();
    const { entries, problems } = openStoredKeys(snapshot.keys, this.masters);
    for (const p of [...snapshot.problems, ...problems]) this.log.error(`key ${p.path} in ${this.store.describe()}: ${p.message}`);
    return entries;
  }

  fingerprint(): Promise<string> {
    return this.store.fingerprint();
  }

  onChange(listener: () => void): void {
    this.store.onChange?.(listener);
  }

  async close(): Promise<void> {
    await this.store.close();
    this.masters.wipe();
  }
}
