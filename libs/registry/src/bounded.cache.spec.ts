import { BoundedCache } from './bounded.cache';

describe('BoundedCache', () => {
  it('forgets the least recently used entry beyond its capacity', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('forgets an entry once its lifetime is over', () => {
    let now = 1000;
    const cache = new BoundedCache<string, number>(10, () => now);
    cache.set('latest', 1, 500);
    cache.set('pinned', 2);
    now = 1499;
    expect(cache.get('latest')).toBe(1);
    now = 1500;
    expect(cache.get('latest')).toBeUndefined();
    expect(cache.size).toBe(1);
    now = 1e12;
    expect(cache.get('pinned')).toBe(2);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new BoundedCache(0)).toThrow(RangeError);
    expect(() => new BoundedCache(1.5)).toThrow(RangeError);
  });
});
