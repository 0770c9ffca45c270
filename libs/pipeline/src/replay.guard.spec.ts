import { ReplayDetectedError, ReplayGuard } from './replay.guard';

const id = (n: number) => new Uint8Array(24).fill(n);

describe('ReplayGuard', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000_000));

  it('refuses an id seen within the window and admits it again once the window has passed', () => {
    const guard = new ReplayGuard({ seconds: 60, maxEnvelopes: 100 }, clock);
    guard.admit(id(1));
    guard.admit(id(2));
    expect(() => guard.admit(id(1))).toThrow(ReplayDetectedError);
    expect(() => guard.admit(id(1))).toThrow(expect.objectContaining({ code: 'replay-detected', retriable: false }));
    now += 60_000;
    expect(() => guard.admit(id(1))).not.toThrow();
    expect(guard.size).toBe(1);
  });

  it('compares the bytes, not the buffer: the same id in another buffer is a replay', () => {
    const guard = new ReplayGuard({ seconds: 60, maxEnvelopes: 100 }, clock);
    const envelope = Buffer.concat([Buffer.from([9, 9]), Buffer.from(id(7))]);
    guard.admit(envelope.subarray(2));
    expect(() => guard.admit(id(7))).toThrow(ReplayDetectedError);
    expect(() => guard.admit(envelope.subarray(1, 25))).not.toThrow();
  });

  it('stays within maxEnvelopes by forgetting the oldest early, and counts that', () => {
    const guard = new ReplayGuard({ seconds: 3600, maxEnvelopes: 3 }, clock);
    for (let n = 1; n <= 5; n++) {
      guard.admit(id(n));
      now += 1;
    }
    expect(guard.size).toBe(3);
    expect(guard.evictedEarly).toBe(2);
    expect(() => guard.admit(id(1))).not.toThrow();
    expect(() => guard.admit(id(5))).toThrow(ReplayDetectedError);
  });
});
