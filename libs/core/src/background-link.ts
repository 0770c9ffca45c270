import { DestinationUnavailableError, ShutdownError } from './bridge.error';
import { retry, RetryPolicy } from './retry-policy';

/** Where a link reports its state; the destination's Nest Logger fits. */
export interface LinkLog {
  log(message: object): void;
  warn(message: object): void;
}

export interface BackgroundLinkOptions<T> {
  /** Names the destination and its broker in log lines (no credentials). */
  readonly what: string;
  /** The destination's retry policy: its delays pace the attempts; its bounds do not apply (see `start`). */
  readonly policy: RetryPolicy;
  /** One connection attempt; `signal` aborts when the link closes, so a slow attempt can give up. */
  open(signal: AbortSignal): Promise<T>;
  /** Releases a connection when the link closes (or one that opened after it closed). */
  dispose(link: T): Promise<void>;
  readonly log: LinkLog;
}

/**
 * A destination's connection, opened in the background and reopened after it is lost, so that
 * a worker starts while a secondary broker is down and that broker's writes wait for it, as
 * they would during any outage, instead of stopping every other rule. Writes take the link
 * with `get` inside their own retry loop (their policy bounds how long they wait) and end at
 * once with a ShutdownError when the link closes (`signal`, `untilClosed`).
 */
export class BackgroundLink<T> {
  private current?: T;
  private connecting = false;
  private readonly waiters = new Set<(link: T | Error) => void>();
  private readonly closing = new AbortController();
  private readonly closedPromise: Promise<never>;

  constructor(private readonly options: BackgroundLinkOptions<T>) {
    this.closedPromise = new Promise<never>((_, reject) =>
      this.closing.signal.addEventListener('abort', () => reject(new ShutdownError(`${options.what} closed before the broker confirmed`))),
    );
    this.closedPromise.catch(() => undefined);
  }

  /** True while a connection is open (per-destination health). */
  get up(): boolean {
    return this.current !== undefined;
  }

  /** Aborted by `close()`: pass it to the writes' retry loops. */
  get signal(): AbortSignal {
    return this.closing.signal;
  }

  /**
   * Starts connecting and returns at once. Attempts go on until one succeeds or the link
   * closes, whatever bounds the policy sets: those bound how long a write waits, while the
   * destination itself must come back whenever its broker does.
   */
  start(): void {
    this.reconnect(true);
  }

  /**
   * The open connection; waits for it up to `waitMs`, then rejects with a retriable
   * DestinationUnavailableError (the caller's retry policy decides whether to wait again).
   * Rejects with a ShutdownError once the link is closed.
   */
  get(waitMs: number): Promise<T> {
    if (this.closing.signal.aborted) return Promise.reject(new ShutdownError(`${this.options.what} is closed`));
    if (this.current !== undefined) return Promise.resolve(this.current);
    return new Promise<T>((resolve, reject) => {
      const settle = (outcome: T | Error) => {
        clearTimeout(timer);
        this.waiters.delete(settle);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const timer = setTimeout(() => settle(new DestinationUnavailableError(`${this.options.what} is not connected`)), waitMs);
      this.waiters.add(settle);
    });
  }

  /** `work`, or a ShutdownError as soon as the link closes: a write never outlives `close()`. */
  untilClosed<R>(work: Promise<R>): Promise<R> {
    return Promise.race([work, this.closedPromise]);
  }

  /** The connection broke and its client will not come back by itself: connect anew. */
  lost(link: T): void {
    if (this.current !== link) return;
    this.current = undefined;
    if (this.closing.signal.aborted) return;
    this.options.log.warn({ msg: 'destination connection lost; reconnecting in the background', destination: this.options.what });
    this.reconnect(false);
  }

  /** Stops reconnecting, ends waiting writes with a ShutdownError, releases the connection. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    const shutdown = new ShutdownError(`${this.options.what} is closed`);
    for (const waiter of [...this.waiters]) waiter(shutdown);
    const link = this.current;
    this.current = undefined;
    if (link !== undefined) await this.options.dispose(link);
  }

  private reconnect(first: boolean): void {
    if (this.connecting || this.closing.signal.aborted) return;
    this.connecting = true;
    void this.attempts(first);
  }

  /** Clears `connecting` before anyone hears of the outcome, so a loss reported at once starts a new round. */
  private async attempts(first: boolean): Promise<void> {
    const { what, log } = this.options;
    const signal = this.closing.signal;
    let attempts = 0;
    let link: T;
    try {
      link = await retry(
        (n) => {
          attempts = n;
          return this.options.open(signal);
        },
        {
          // Unbounded on purpose (see start); only the pacing comes from the destination's policy.
          policy: { ...this.options.policy, maxAttempts: 0, maxElapsedMs: 0 },
          retriable: () => true,
          signal,
          onRetry: (error, attempt) => {
            // Once per outage, not per attempt: a broker down for hours must not flood the log.
            if (attempt !== 1) return;
            log.warn({
              msg: first ? 'destination not connected yet; connecting in the background (its writes wait)' : 'destination still down; retrying',
              destination: what,
              detail: (error as Error).message,
            });
          },
        },
      );
    } catch {
      // Only closing ends the loop (every failure is retried): nothing to connect any more.
      this.connecting = false;
      return;
    }
    this.connecting = false;
    if (signal.aborted) return this.options.dispose(link);
    this.current = link;
    log.log({ msg: 'destination connected', destination: what, attempts });
    for (const waiter of [...this.waiters]) waiter(link);
  }
}
