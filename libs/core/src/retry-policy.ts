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
