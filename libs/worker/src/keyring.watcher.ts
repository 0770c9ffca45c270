import { Logger } from '@nestjs/common';
import { KeyEntry, Keyring, KeySource } from '@app/crypto';
import { KeyringSource } from '@app/pipeline';

/** How long a replaced keyring stays readable for messages that picked it up before the swap. */
const RETIRE_AFTER_MS = 30_000;

/**
 * Holds the current keyring and reloads it when the key source changes (polled fingerprint,
 * the source's own change events, or `refresh()` from the control plane), so keys are created,
 * rotated and revoked without a restart. Keys that fail to load are reported and the keyring
 * in use stays; a replaced keyring is wiped once messages using it are done.
 */
export class KeyringWatcher implements KeyringSource {
  private readonly log = new Logger(KeyringWatcher.name);
  private keyring: Keyring;
  private source?: KeySource;
  private timer?: NodeJS.Timeout;
  private lastSeen = '';
  /** Replaced keyrings still readable by messages in flight, wiped when their timer fires or at stop. */
  private readonly retiring = new Map<NodeJS.Timeout, Keyring>();
  /** Reloads never overlap; a change seen during one triggers exactly one more. */
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly openSource?: () => Promise<KeySource>,
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
    if (!this.openSource || this.source) return;
    const source = await this.openSource();
    await source.open();
    this.source = source;
    source.onChange?.(() => void this.refresh());
    await this.refresh();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** Reloads now, e.g. when the admin service announces a key change. */
  refresh(): Promise<void> {
    if (!this.source) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const seen = await this.source!.fingerprint().catch(() => '');
        // Remembered only once loaded: after a failed load the next poll tries again, so a
        // revocation that met a passing store outage is not skipped for good.
        this.lastSeen = (await this.reload()) ? seen : '';
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const [timer, keyring] of this.retiring) {
      clearTimeout(timer);
      keyring.wipe();
    }
    this.retiring.clear();
    await this.running?.catch(() => undefined);
    const source = this.source;
    this.source = undefined;
    await source?.close().catch(() => undefined);
    this.keyring.wipe();
  }

  private async poll(): Promise<void> {
    if (!this.source) return;
    const seen = await this.source.fingerprint().catch(() => this.lastSeen);
    if (seen !== this.lastSeen) await this.refresh();
  }

  private async reload(): Promise<boolean> {
    const source = this.source!;
    let entries: KeyEntry[] = [];
    try {
      entries = await source.load();
      const next = Keyring.from(entries);
      const previous = this.keyring;
      this.keyring = next;
      this.log.log(`keys loaded from ${source.describe()}: ${next.names().join(', ') || 'none'}`);
      this.onReload(true);
      const timer = setTimeout(() => {
        this.retiring.delete(timer);
        previous.wipe();
      }, RETIRE_AFTER_MS);
      timer.unref();
      this.retiring.set(timer, previous);
      return true;
    } catch (error) {
      this.log.error(`keys from ${source.describe()} not loaded, keeping the keys in use: ${error instanceof Error ? error.message : String(error)}`);
      this.onReload(false);
      return false;
    } finally {
      // The keyring keeps its own copies: the loaded ones are not needed either way.
      for (const entry of entries) for (const v of entry.versions) v.secret.fill(0);
    }
  }
}
