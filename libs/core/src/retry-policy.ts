import { classify, DeliveryFailedError, ShutdownError } from './bridge.error';
/** Exponential backoff with full jitter, bounded by attempts and by elapsed time (0 = unbounded). */
export interface RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly maxAttempts: number;
  readonly maxElapsedMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 200, maxMs: 10_000, maxAttempts: 0, maxElapsedMs: 0 };

/** Delay before attempt `attempt + 1` (attempt counts from 1), or undefined when the policy gives up. */
export function nextDelay(policy: RetryPolicy, attempt: number, elapsedMs: number, random = Math.random): number | undefined {
  if (policy.maxAttempts > 0 && attempt >= policy.maxAttempts) return undefined;
  if (policy.maxElapsedMs > 0 && elapsedMs >= policy.maxElapsedMs) return undefined;
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
  // Half fixed, half random: spreads reconnect storms without ever retrying at once.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** How one retry loop behaves: its pacing, which failures it retries, how it is stopped. */
export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** Whether a failure may be tried again; default: its class says `retriable`. */
  readonly retriable?: (error: unknown) => boolean;
  /** Aborting it ends a wait at once with a ShutdownError (and no attempt starts after). */
  readonly signal?: AbortSignal;
  /** Told before each wait, e.g. to log the first failure of an outage. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * The one retry loop of the project: runs `attempt` (numbered from 1) until it succeeds, a
 * failure is not retriable, or the policy gives up, and then throws that last failure as it
 * was. A ShutdownError always passes through at once.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    if (options.signal?.aborted) throw new ShutdownError('stopped while retrying');
    try {
      return await attempt(n);
    } catch (error) {
      if (error instanceof ShutdownError) throw error;
      const again = options.retriable ? options.retriable(error) : classify(error).retriable;
      const delay = again ? nextDelay(options.policy, n, Date.now() - started) : undefined;
      if (delay === undefined) throw error;
      options.onRetry?.(error, n, delay);
      await sleep(delay, options.signal);
    }
  }
}

/**
 * retry() for destinations that own their retries: what it finally throws is a
 * DeliveryFailedError carrying the last failure (as classified) and the attempt history, for
 * the dead-letter record. Aborting `signal` (the destination closes) ends the wait at once with
 * a ShutdownError, which also passes through unwrapped when the attempt throws it: the message
 * stays unacknowledged.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let attempts = 0;
  let firstFailure: Date | undefined;
  try {
    return await retry(
      async (n) => {
        attempts = n;
        try {
          return await attempt();
        } catch (error) {
          firstFailure ??= new Date();
          throw error;
        }
      },
      { policy, signal },
    );
  } catch (error) {
    if (error instanceof ShutdownError) throw error;
    throw new DeliveryFailedError(classify(error), attempts, firstFailure ?? new Date(), new Date());
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // An abort that came before the wait fires no event: it would wait the whole delay.
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}
