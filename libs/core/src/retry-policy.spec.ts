import { DestinationRejectedError, DestinationUnavailableError, ShutdownError } from './bridge.error';
import { nextDelay, retry, RetryPolicy, withRetries } from './retry-policy';

const policy: RetryPolicy = { initialMs: 100, maxMs: 1000, maxAttempts: 0, maxElapsedMs: 0 };

describe('nextDelay', () => {
  it('doubles up to the ceiling, with jitter between half and all of it', () => {
    expect(nextDelay(policy, 1, 0, () => 0)).toBe(50);
    expect(nextDelay(policy, 1, 0, () => 1)).toBe(100);
    expect(nextDelay(policy, 3, 0, () => 1)).toBe(400);
    expect(nextDelay(policy, 10, 0, () => 1)).toBe(1000);
    expect(nextDelay(policy, 60, 0, () => 0.5)).toBe(750);
  });

  it('gives up after the attempts or the time allowed', () => {
    expect(nextDelay({ ...policy, maxAttempts: 3 }, 3, 0)).toBeUndefined();
    expect(nextDelay({ ...policy, maxAttempts: 3 }, 2, 0)).toBeDefined();
    expect(nextDelay({ ...policy, maxElapsedMs: 500 }, 1, 500)).toBeUndefined();
    expect(nextDelay({ ...policy, maxElapsedMs: 500 }, 1, 499)).toBeDefined();
  });
});

describe('withRetries', () => {
  const fast: RetryPolicy = { initialMs: 1, maxMs: 2, maxAttempts: 3, maxElapsedMs: 0 };

  it('retries retriable failures and returns the first success', async () => {
    let calls = 0;
    const result = await withRetries(fast, async () => {
      if (++calls < 3) throw new DestinationUnavailableError('down');
      return 'ok';
    });
    expect({ result, calls }).toEqual({ result: 'ok', calls: 3 });
  });

  it('gives up with the attempt history, and at once on a permanent failure', async () => {
    await expect(withRetries(fast, async () => Promise.reject(new DestinationUnavailableError('down')))).rejects.toMatchObject({
      attempts: 3,
      retriable: true,
    });
    let calls = 0;
    await expect(
      withRetries(fast, async () => {
        calls++;
        throw new DestinationRejectedError('no', 'invalid-topic');
      }),
    ).rejects.toMatchObject({ attempts: 1, code: 'invalid-topic' });
    expect(calls).toBe(1);
  });

  it('stops waiting when aborted, with a ShutdownError rather than a delivery failure', async () => {
    const controller = new AbortController();
    const slow: RetryPolicy = { initialMs: 60_000, maxMs: 60_000, maxAttempts: 0, maxElapsedMs: 0 };
    let calls = 0;
    const started = Date.now();
    const run = withRetries(
      slow,
      async () => {
        calls++;
        throw new DestinationUnavailableError('down');
      },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 20);
    await expect(run).rejects.toBeInstanceOf(ShutdownError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(calls).toBe(1);
    await expect(withRetries(fast, async () => Promise.reject(new ShutdownError('closing')))).rejects.toBeInstanceOf(ShutdownError);
  });
});

describe('retry', () => {
  const quick: RetryPolicy = { initialMs: 1, maxMs: 2, maxAttempts: 0, maxElapsedMs: 0 };

  it('tries again what its predicate calls retriable, telling onRetry, and returns the first success', async () => {
    const told: number[] = [];
    let calls = 0;
    const result = await retry(
      async (n) => {
        calls++;
        if (n < 3) throw new Error(`not yet ${n}`);
        return n;
      },
      { policy: quick, retriable: () => true, onRetry: (_e, attempt) => told.push(attempt) },
    );
    expect({ result, calls, told }).toEqual({ result: 3, calls: 3, told: [1, 2] });
  });

  it('throws the failure unchanged when it is not retriable (by default, by its class) or the policy gives up', async () => {
    const refused = new DestinationRejectedError('too large', 'record-too-large');
    await expect(retry(async () => Promise.reject(refused), { policy: quick })).rejects.toBe(refused);
    const down = new DestinationUnavailableError('down');
    let calls = 0;
    const limited = retry(
      async () => {
        calls++;
        throw down;
      },
      { policy: { ...quick, maxAttempts: 3 } },
    );
    await expect(limited).rejects.toBe(down);
    expect(calls).toBe(3);
  });

  it('ends a wait at once with a ShutdownError when its signal aborts', async () => {
    const stop = new AbortController();
    const waiting = retry(async () => Promise.reject(new DestinationUnavailableError('down')), {
      policy: { initialMs: 60_000, maxMs: 60_000, maxAttempts: 0, maxElapsedMs: 0 },
      signal: stop.signal,
    });
    stop.abort();
    await expect(waiting).rejects.toBeInstanceOf(ShutdownError);
  });
});
