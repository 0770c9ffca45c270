import { stat } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import { FileKeyStore, KeyEntry, Keyring } from '@app/crypto';
import { KeyringSource } from './payload.transformer';

/** How long a replaced keyring stays readable for messages that picked it up before the swap. */
const RETIRE_AFTER_MS = 30_000;

/**
 * Holds the current keyring and re-reads the key file when it changes, so keys are created,
 * rotated and revoked without a restart. A file that fails to load is reported and the
 * keyring in use stays; a replaced keyring is wiped once messages using it are done.
 */
export class KeyringWatcher implements KeyringSource {
  private readonly log = new Logger(KeyringWatcher.name);
  private keyring: Keyring;
  private timer?: NodeJS.Timeout;
  private lastSeen = '';
  private readonly retiring = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store?: FileKeyStore,
    initial: readonly KeyEntry[] = [],
    private readonly intervalMs = 1_000,
    private readonly onReload: (ok: boolean) => void = () => undefined,
  ) {
    this.keyring = Keyring.from(initial);
  }

  current(): Keyring {
    return this.keyring;
  }

  async start(): Promise<void> {
    if (!this.store) return;
    this.lastSeen = await this.fingerprint();
    await this.reload();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const t of this.retiring) clearTimeout(t);
    this.retiring.clear();
    this.keyring.wipe();
  }

  private async poll(): Promise<void> {
    const seen = await this.fingerprint();
    if (seen === this.lastSeen) return;
    this.lastSeen = seen;
    await this.reload();
  }

  private async reload(): Promise<void> {
    try {
      const next = Keyring.from(await this.store!.load());
      const previous = this.keyring;
      this.keyring = next;
      this.log.log(`keys loaded from ${this.store!.path}: ${next.names().join(', ') || 'none'}`);
      this.onReload(true);
      const timer = setTimeout(() => {
        this.retiring.delete(timer);
        previous.wipe();
      }, RETIRE_AFTER_MS);
      timer.unref();
      this.retiring.add(timer);
    } catch (error) {
      this.log.error(`key file ${this.store!.path} not loaded, keeping the keys in use: ${error instanceof Error ? error.message : String(error)}`);
      this.onReload(false);
    }
  }

  /** Size and mtime: cheap to poll, and a rename-over-write (atomic replace) changes both or the inode time. */
  private async fingerprint(): Promise<string> {
    try {
      const s = await stat(this.store!.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
