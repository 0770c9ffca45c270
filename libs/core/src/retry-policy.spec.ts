import { DestinationRejectedError, DestinationUnavailableError, ShutdownError } from './bridge.error';
import { nextDelay, RetryPolicy, withRetries } from './retry-policy';

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
