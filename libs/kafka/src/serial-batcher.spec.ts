import { DestinationRejectedError, DestinationUnavailableError, ShutdownError } from '@app/core';
import { SerialBatcher } from './serial-batcher';

const fastRetry = { initialMs: 1, maxMs: 2, maxAttempts: 0, maxElapsedMs: 0 };

describe('SerialBatcher', () => {
  it('batches what accumulates while a send is in flight, in push order', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const firstSend = new Promise<void>((r) => (release = r));
    const batcher = new SerialBatcher<number>(
      async (items) => {
        batches.push([...items]);
        if (batches.length === 1) await firstSend;
      },
      { maxBatch: 3, retry: fastRetry },
    );
    const done = [1, 2, 3, 4, 5, 6].map((n) => batcher.push(n));
    release();
    await Promise.all(done);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('retries a retriable failure on the same batch before sending later items', async () => {
    const sent: number[][] = [];
    let failures = 2;
    const batcher = new SerialBatcher<number>(
      async (items) => {
        sent.push([...items]);
        if (failures-- > 0) throw new DestinationUnavailableError('down');
      },
      { maxBatch: 10, retry: fastRetry },
    );
    await Promise.all([batcher.push(1), batcher.push(2)]);
    await batcher.push(3);
    expect(sent).toEqual([[1, 2], [1, 2], [1, 2], [3]]);
  });

  it('isolates a non-retriable item and delivers its neighbours', async () => {
    const delivered: number[] = [];
    const batcher = new SerialBatcher<number>(
      async (items) => {
        if (items.includes(2)) throw new DestinationRejectedError('too large', 'record-too-large');
        delivered.push(...items);
      },
      { maxBatch: 10, retry: fastRetry },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.push(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'record-too-large', retriable: false, attempts: 1 });
    expect(delivered).toEqual([1, 3]);
  });

  it('bounds a batch by bytes as well as by count, letting an oversized item go alone', async () => {
    const batches: number[][] = [];
    const batcher = new SerialBatcher<number>(async (items) => void batches.push([...items]), {
      maxBatch: 10,
      maxBatchBytes: 100,
      retry: fastRetry,
    });
    await Promise.all([40, 40, 40, 150, 10, 10].map((n) => batcher.push(n, n)));
    expect(batches).toEqual([[40, 40], [40], [150], [10, 10]]);
  });

  it('halves a refused batch to isolate the bad item in few requests', async () => {
    let requests = 0;
    const batcher = new SerialBatcher<number>(
      async (items) => {
        requests++;
        if (items.includes(5)) throw new DestinationRejectedError('bad', 'invalid-record');
      },
      { maxBatch: 16, retry: fastRetry },
    );
    const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => batcher.push(i)));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((results[5] as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid-record' });
    expect(requests).toBeLessThanOrEqual(1 + 2 * 4);
  });

  it('gives up after the retry policy and hands back the retriable error', async () => {
    const batcher = new SerialBatcher<number>(
      async () => {
        throw new DestinationUnavailableError('down');
      },
      { maxBatch: 10, retry: { ...fastRetry, maxAttempts: 3 } },
    );
    await expect(batcher.push(1)).rejects.toMatchObject({ retriable: true, code: 'destination-unavailable', attempts: 3 });
  });

  it('on close, stops retrying after the timeout and rejects with a shutdown error', async () => {
    const batcher = new SerialBatcher<number>(
      async () => {
        throw new DestinationUnavailableError('down');
      },
      { maxBatch: 10, retry: { ...fastRetry, initialMs: 50, maxMs: 50 } },
    );
    const pushed = batcher.push(1);
    await batcher.close(20);
    await expect(pushed).rejects.toBeInstanceOf(ShutdownError);
    await expect(batcher.push(2)).rejects.toBeInstanceOf(ShutdownError);
  });
});
