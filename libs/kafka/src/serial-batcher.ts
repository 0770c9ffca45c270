import { classify, DeliveryFailedError, nextDelay, RetryPolicy, ShutdownError } from '@app/core';

interface Pending<T> {
  readonly item: T;
  readonly size: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** Per-item outcome of a batch send: undefined for success, else the error for that item. */
export type BatchOutcome = ReadonlyArray<unknown | undefined>;

export interface SerialBatcherOptions<T> {
  readonly maxBatch: number;
  /** Upper bound of the summed sizes given to `push`; a single larger item still goes alone. */
  readonly maxBatchBytes?: number;
  readonly retry: RetryPolicy;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number, items: readonly T[]) => void;
  /**
   * How a refused batch of two or more items is split to find the culprits: groups of indices
   * into `items`, each sent (and retried) on its own, in order. Default: two halves.
   */
  readonly split?: (items: readonly T[]) => ReadonlyArray<readonly number[]>;
}

/**
 * Sends items in batches, one batch at a time, in the order they were pushed.
 *
 * While a batch is in flight the next one accumulates, so the batch size adapts to the
 * destination's round trip. A retriable failure retries the same batch before anything
 * behind it is sent, which keeps order per key. A non-retriable failure of a batch is
 * narrowed down by splitting it (`split`, halves by default) until the bad records are alone, so
 * one bad record does not take its neighbours with it. (A destination that accepted part of the
 * refused batch receives that part again: at-least-once, unless it recognises the resend.)
 */
export class SerialBatcher<T> {
  private queue: Pending<T>[] = [];
  private running = false;
  private closed = false;
  private abortRetries = false;
  private wakeRetry?: () => void;
  private idle: Array<() => void> = [];

  constructor(
    private readonly send: (items: readonly T[]) => Promise<void>,
    private readonly options: SerialBatcherOptions<T>,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Queues an item of `size` bytes (counted against maxBatchBytes); resolves once it was sent. */
  push(item: T, size = 0): Promise<void> {
    if (this.closed) return Promise.reject(new ShutdownError('destination is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, size, resolve, reject });
      if (!this.running) {
        // Start on the next turn of the event loop, so a burst parsed from one socket read goes out as one batch.
        this.running = true;
        setImmediate(() => void this.run());
      }
    });
  }

  /** Stops taking items and waits for the queue; after `timeoutMs` retries stop and what is left is rejected. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    if (!this.running) return;
    const timer = setTimeout(() => {
      this.abortRetries = true;
      this.wakeRetry?.();
    }, timeoutMs);
    await new Promise<void>((resolve) => this.idle.push(resolve));
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchLength());
        const outcome = await this.sendWithRetry(batch.map((p) => p.item));
        if (outcome === undefined) batch.forEach((p) => p.resolve());
        else batch.forEach((p, i) => (outcome[i] === undefined ? p.resolve() : p.reject(outcome[i])));
      }
    } finally {
      this.running = false;
      this.idle.splice(0).forEach((resolve) => resolve());
    }
  }

  /** How many queued items the next batch takes: bounded by count and, when configured, by bytes. */
  private batchLength(): number {
    const { maxBatch, maxBatchBytes } = this.options;
    const limit = Math.min(maxBatch, this.queue.length);
    if (maxBatchBytes === undefined) return limit;
    let bytes = 0;
    for (let i = 0; i < limit; i++) {
      bytes += this.queue[i].size;
      if (bytes > maxBatchBytes) return Math.max(1, i);
    }
    return limit;
  }

  /** undefined when the whole batch went through, else the per-item outcome. */
  private async sendWithRetry(items: readonly T[]): Promise<BatchOutcome | undefined> {
    let firstFailure: Date | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send(items);
        return undefined;
      } catch (error) {
        const failure = classify(error);
        const now = new Date();
        firstFailure ??= now;
        if (!failure.retriable) {
          if (items.length === 1) return [new DeliveryFailedError(failure, attempt, firstFailure, now)];
          const outcome: unknown[] = new Array(items.length).fill(undefined);
          const groups = this.options.split?.(items) ?? [];
          // A split that does not divide the batch would resend it for ever: halve instead.
          for (const group of groups.length > 1 ? groups : halves(items)) {
            const result = await this.sendWithRetry(group.map((i) => items[i]));
            if (result) group.forEach((index, j) => (outcome[index] = result[j]));
          }
          return outcome;
        }
        const delay = this.abortRetries ? undefined : nextDelay(this.options.retry, attempt, now.getTime() - firstFailure.getTime());
        if (delay === undefined) {
          const final = this.abortRetries
            ? new ShutdownError('closed while retrying', { cause: error })
            : new DeliveryFailedError(failure, attempt, firstFailure, now);
          return items.map(() => final);
        }
        this.options.onRetry?.(error, attempt, delay, items);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = undefined;
      }
    }
  }
}

/** Halving: log2(n) extra requests to isolate one bad item, not n. */
function halves(items: readonly unknown[]): number[][] {
  const middle = Math.ceil(items.length / 2);
  const indices = items.map((_, i) => i);
  return [indices.slice(0, middle), indices.slice(middle)];
}
