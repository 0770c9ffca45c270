import { BridgeError } from '@app/core';

/** An envelope this rule already opened within its replay window. */
export class ReplayDetectedError extends BridgeError {
  readonly retriable = false;
  readonly code = 'replay-detected';
}

/** A rule's replay window: how long an envelope id is remembered, and how many at most. */
export interface ReplayWindowConfig {
  readonly seconds: number;
  readonly maxEnvelopes: number;
}

/**
 * Remembers the ids of envelopes a rule opened during the last `seconds`, so the same
 * envelope published again (by an attacker who captured it, or a broker redelivering it) is
 * refused. Memory is bounded by `maxEnvelopes`: past it the oldest ids are forgotten early,
 * which shortens the window (counted in `evictedEarly`) rather than growing without bound.
 * Ids go in at receipt time, which only grows, so the oldest is always first in the map.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  /** Ids forgotten before their window ended because the guard was full. */
  evictedEarly = 0;

  constructor(
    readonly config: ReplayWindowConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records `id` as opened now.
   * @throws ReplayDetectedError when it was opened within the window.
   */
  admit(id: Uint8Array): void {
    const now = this.now();
    this.expire(now);
    // latin1 maps each byte to one UTF-16 unit: a compact, collision-free key.
    const key = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
    if (this.seen.has(key)) {
      throw new ReplayDetectedError(`this envelope was already opened by the rule within the last ${this.config.seconds} s (replayed or redelivered)`);
    }
    if (this.seen.size >= this.config.maxEnvelopes) {
      this.seen.delete(this.seen.keys().next().value!);
      this.evictedEarly++;
    }
    this.seen.set(key, now + this.config.seconds * 1000);
  }

  get size(): number {
    return this.seen.size;
  }

  private expire(now: number): void {
    for (const [key, expiry] of this.seen) {
      if (expiry > now) return;
      this.seen.delete(key);
    }
  }
}
