/**
 * Counts failed authentications per client address in a fixed window; past the limit the
 * address is refused (429) until its window ends, which caps online token guessing.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `client` may try again, or 0 when it is not blocked. */
  blockedFor(client: string): number {
    const w = this.current(client);
    return w && w.failures >= this.maxFailures ? w.start + this.windowMs - this.now() : 0;
  }

  fail(client: string): void {
    const w = this.current(client) ?? { start: this.now(), failures: 0 };
    w.failures++;
    this.windows.set(client, w);
    if (this.windows.size > 10_000) this.prune();
  }

  private current(client: string): { start: number; failures: number } | undefined {
    const w = this.windows.get(client);
    if (w && this.now() - w.start >= this.windowMs) {
      this.windows.delete(client);
      return undefined;
    }
    return w;
  }

  private prune(): void {
    for (const client of [...this.windows.keys()]) this.current(client);
  }
}
