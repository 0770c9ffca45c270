import { isIPv6 } from 'node:net';

/**
 * Counts failed authentications per client in a fixed window; past the limit the client is
 * refused (429) until its window ends, which caps online token guessing. Memory is bounded:
 * expired windows go first (the map is in window-start order), then the oldest when full.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number; refusals: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxTracked = 10_000,
  ) {}

  /** Milliseconds until `address` may try again, or 0 when it is not blocked. */
  blockedFor(address: string): number {
    this.expire();
    const w = this.windows.get(clientKey(address));
    return w && w.failures >= this.maxFailures ? w.start + this.windowMs - this.now() : 0;
  }

  /** Counts a refusal of a blocked client; true for the first one of its window (worth auditing). */
  refused(address: string): boolean {
    const w = this.windows.get(clientKey(address));
    if (!w) return false;
    return ++w.refusals === 1;
  }

  fail(address: string): void {
    this.expire();
    const key = clientKey(address);
    let w = this.windows.get(key);
    if (!w) {
      if (this.windows.size >= this.maxTracked) this.windows.delete(this.windows.keys().next().value as string);
      w = { start: this.now(), failures: 0, refusals: 0 };
      this.windows.set(key, w);
    }
    w.failures++;
  }

  private expire(): void {
    const now = this.now();
    for (const [key, w] of this.windows) {
      if (now - w.start < this.windowMs) return;
      this.windows.delete(key);
    }
  }
}

/**
 * The unit a client is counted by: its IPv4 address, or its IPv6 /64 (one host usually holds a
 * whole /64, so counting single IPv6 addresses would be no limit at all).
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}
