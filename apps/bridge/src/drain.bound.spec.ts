import { CLOSE_MARGIN_MS, DEFAULT_DRAIN_SECONDS, drainBoundMs } from './drain.bound';

describe('drainBoundMs', () => {
  it('defaults to the documented 10 s', () => {
    expect(DEFAULT_DRAIN_SECONDS).toBe(10);
    expect(drainBoundMs({})).toBe(10_000);
    expect(drainBoundMs({ BRIDGE_DRAIN_SECONDS: ' ' })).toBe(10_000);
  });

  it('takes seconds, fractions included', () => {
    expect(drainBoundMs({ BRIDGE_DRAIN_SECONDS: '25' })).toBe(25_000);
    expect(drainBoundMs({ BRIDGE_DRAIN_SECONDS: '2.5' })).toBe(2_500);
  });

  it('refuses what is not a positive number rather than draining for no time or for ever', () => {
    for (const bad of ['0', '-1', 'ten', 'Infinity']) {
      expect(() => drainBoundMs({ BRIDGE_DRAIN_SECONDS: bad })).toThrow(/BRIDGE_DRAIN_SECONDS must be a positive number of seconds/);
    }
  });

  it('leaves a close margin that the compose grace period covers', () => {
    expect(CLOSE_MARGIN_MS).toBe(5_000);
  });
});
