import type { MacPurpose, MasterKey } from './master-key';
import type { StoredKey } from './stored-key';

/**
 * The master key new records are wrapped and signed with, plus the previous ones still
 * accepted while a keystore is re-wrapped (master key rotation). Each record is opened with
 * the key whose MAC it carries.
 */
export class MasterKeyRing {
  constructor(
    readonly current: MasterKey,
    readonly previous: readonly MasterKey[] = [],
  ) {}

  /** Every accepted master key id, the current one first. */
  get ids(): string[] {
    return [this.current.id, ...this.previous.map((m) => m.id)];
  }

  /** The master key that signed this record, or undefined if none of them did (altered, or foreign). */
  signerOf(key: StoredKey): MasterKey | undefined {
    const { mac, ...record } = key;
    return [this.current, ...this.previous].find((m) => m.verify(record, mac));
  }

  /** True when any accepted master key made `mac` over `object` for `purpose`. */
  authenticates(object: object, mac: string | undefined, purpose: MacPurpose): boolean {
    return [this.current, ...this.previous].some((m) => m.verify(object, mac, purpose));
  }

  wipe(): void {
    this.current.wipe();
    for (const m of this.previous) m.wipe();
  }
}
