import { KeystoreUnavailableError } from './keystore';
import { ReadPosition } from './read-position';

describe('ReadPosition', () => {
  afterEach(() => jest.useRealTimers());

  it('resolves the waiters a position reaches, in any order, and never moves back', async () => {
    const read = new ReadPosition(1_000, () => 'topic t');
    const seen: number[] = [];
    const waits = [5, 2, 9].map((target) => read.reach(target).then(() => seen.push(target)));
    read.advance(5);
    read.advance(3);
    await Promise.resolve();
    await Promise.resolve();
    expect(seen.sort()).toEqual([2, 5]);
    expect(read.position).toBe(5);
    read.advance(9);
    await Promise.all(waits);
    expect(seen).toContain(9);
    await expect(read.reach(4)).resolves.toBeUndefined();
  });

  it('gives up after the timeout naming where it is, and rejects every waiter when closed', async () => {
    jest.useFakeTimers();
    const read = new ReadPosition(50, () => 'topic t');
    read.advance(3);
    const late = read.reach(10);
    jest.advanceTimersByTime(50);
    await expect(late).rejects.toThrow('keystore topic t: not caught up to offset 10 within 50 ms (at 3)');
    const closed = read.reach(11);
    read.rejectAll(new KeystoreUnavailableError('closed'));
    await expect(closed).rejects.toBeInstanceOf(KeystoreUnavailableError);
  });
});
