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

/**
 * Runs `attempt` until it succeeds or `policy` gives up, waiting between tries; what it finally
 * throws is a DeliveryFailedError carrying the last failure (as classified) and the attempt
 * history. A non-retriable failure ends the loop at once. For destinations that own retries.
 * Aborting `signal` (the destination closes) ends the wait at once with a ShutdownError, which
 * also passes through unwrapped when the attempt throws it: the message stays unacknowledged.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let firstFailure: Date | undefined;
  for (let n = 1; ; n++) {
    if (signal?.aborted) throw new ShutdownError('stopped while retrying');
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof ShutdownError) throw error;
      const now = new Date();
      firstFailure ??= now;
      const failure = classify(error);
      const delay = failure.retriable ? nextDelay(policy, n, now.getTime() - firstFailure.getTime()) : undefined;
      if (delay === undefined) throw new DeliveryFailedError(failure, n, firstFailure, now);
      await sleep(delay, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
