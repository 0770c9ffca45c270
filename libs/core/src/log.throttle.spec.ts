import { LogThrottle } from './log.throttle';

describe('LogThrottle', () => {
  it('lets a line through once per interval per key and counts the ones it held back', () => {
    let now = 0;
    const throttle = new LogThrottle(30_000, () => now);
    expect(throttle.admit('unavailable')).toEqual({ due: true, suppressed: 0 });
    for (let i = 0; i < 5; i++) expect(throttle.admit('unavailable')).toEqual({ due: false });
    expect(throttle.admit('other')).toEqual({ due: true, suppressed: 0 });
    now += 30_000;
    expect(throttle.admit('unavailable')).toEqual({ due: true, suppressed: 5 });
    expect(throttle.admit('unavailable')).toEqual({ due: false });
  });
});
