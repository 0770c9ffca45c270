/**
 * Lets a repeated log line through once per interval, counting what it held back: a failure
 * that every request meets (a store down for minutes) must not write ten lines a second.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether the line keyed `key` is due; when it is, `suppressed` says how many were held back
   * since it was last written.
   */
  admit(key: string): { due: true; suppressed: number } | { due: false } {
    const at = this.now();
    const seen = this.last.get(key);
    if (seen && at - seen.at < this.intervalMs) {
      seen.suppressed++;
      return { due: false };
    }
    this.last.set(key, { at, suppressed: 0 });
    return { due: true, suppressed: seen?.suppressed ?? 0 };
  }
}
