import { Logger } from '@nestjs/common';
import { isAuthentic, Keystore, KeystoreIntegrityError, KeystoreSnapshot, MasterKeyRing, StoredKey } from '@app/keystore';
import { KeyNotFoundError, KeyStateError } from './admin.errors';
import type { AuditLog } from './audit.log';

/**
 * The keystore as KeyService reads it: only entries whose MAC holds under a master key and that
 * the store's manifest vouches for. Each integrity problem is logged and audited once, not on
 * every read.
 */
export class VerifiedKeys {
  private readonly log = new Logger('Keys');
  private readonly reported = new Set<string>();

  constructor(
    private readonly store: Keystore,
    private readonly masters: MasterKeyRing,
    private readonly audit: AuditLog,
  ) {}

  async find(name: string, includeDeleted: boolean): Promise<StoredKey> {
    const stored = await this.entry(name);
    const key = stored && this.checked(stored);
    if (!key || (key.deletedAt && !includeDeleted)) throw new KeyNotFoundError(name);
    return key;
  }

  /** Keys whose MAC holds; the others are reported and left out. */
  async authentic(): Promise<StoredKey[]> {
    const { keys } = await this.state();
    const good = keys.filter((k) => isAuthentic(k, this.masters));
    if (good.length < keys.length)
      this.log.error(
        `keys failing their integrity check, not shown: ${keys
          .filter((k) => !good.includes(k))
          .map((k) => k.name)
          .join(', ')}`,
      );
    return good;
  }

  /**
   * The keys the store's manifest vouches for. Entries it refuses (an old copy put back, one
   * deleted or added outside the service) are logged and audited once each; a store refused as
   * a whole (rolled back) throws KeystoreIntegrityError, answered 409.
   */
  async state(): Promise<KeystoreSnapshot> {
    const snapshot = await this.store.snapshot().catch(async (error: unknown) => {
      if (error instanceof KeystoreIntegrityError) await this.report(error.code, undefined, error.message);
      throw error;
    });
    for (const p of snapshot.problems) await this.report('integrity-failed', p.path, p.message);
    return snapshot;
  }

  /** The entry for `name`, or undefined when there is none; a name the manifest refuses is a 409. */
  async entry(name: string): Promise<StoredKey | undefined> {
    const { keys, problems } = await this.state();
    const problem = problems.find((p) => p.path === name);
    if (problem)
      throw new KeyStateError('integrity-failed', `key "${name}" fails the keystore's integrity check: ${problem.message}; restore the keystore from a backup`);
    return keys.find((k) => k.name === name);
  }

  private async report(code: string, key: string | undefined, message: string): Promise<void> {
    const id = `${code}\0${key ?? ''}\0${message}`;
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.log.error(key ? `key "${key}": ${message}` : message);
    await this.audit.record({ tokenId: '-', action: 'integrity-check', ...(key !== undefined ? { key } : {}), result: 'failed', status: 409, code });
  }

  /** A record someone altered outside the service (or wrote without the master key) is refused, not trusted. */
  checked(key: StoredKey): StoredKey {
    if (isAuthentic(key, this.masters)) return key;
    this.log.error(`key "${key.name}" fails its integrity check (altered outside the admin service?)`);
    throw new KeyStateError('integrity-failed', `key "${key.name}" fails its integrity check; restore the keystore from a backup or purge the key`);
  }
}
