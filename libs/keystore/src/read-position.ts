import { KeystoreUnavailableError } from './keystore';

type Waiter = { target: number; resolve(): void; reject(error: Error): void };

/**
 * How far a keystore's mirror has read its topic, and the callers waiting for it to reach an
 * offset (a write waits to read itself back, a read waits for the high watermark), each for at
 * most `timeoutMs`.
 */
export class ReadPosition {
  private waiters: Waiter[] = [];
  private at = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly describe: () => string,
  ) {}

  /** The next offset to read. */
  get position(): number {
    return this.at;
  }

  advance(to: number): void {
    if (to <= this.at) return;
    this.at = to;
    const due = this.waiters.filter((w) => w.target <= to);
    this.waiters = this.waiters.filter((w) => w.target > to);
    for (const w of due) w.resolve();
  }

  /** Resolves once the position reaches `target`; rejects with KeystoreUnavailableError after the timeout. */
  reach(target: number): Promise<void> {
    if (this.at >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new KeystoreUnavailableError(`keystore ${this.describe()}: not caught up to offset ${target} within ${this.timeoutMs} ms (at ${this.at})`));
      }, this.timeoutMs);
      const waiter: Waiter = { target, resolve: () => (clearTimeout(timer), resolve()), reject: (e) => (clearTimeout(timer), reject(e)) };
      this.waiters.push(waiter);
    });
  }

  rejectAll(error: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}
