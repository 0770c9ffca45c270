import { OffsetTracker } from './offset-tracker';

describe('OffsetTracker', () => {
  it('commits only up to the last record confirmed with every earlier one', () => {
    const t = new OffsetTracker();
    const [a, b, c] = ['10', '11', '13'].map((o) => t.track('cmd', 0, o));
    const other = t.track('cmd', 1, '5');
    expect(t.uncommitted()).toEqual([]);
    t.confirm(c);
    t.confirm(b);
    expect(t.uncommitted()).toEqual([]);
    t.confirm(other);
    expect(t.uncommitted()).toEqual([{ topic: 'cmd', partition: 1, offset: '6' }]);
    t.confirm(a);
    // Gaps (compacted or control records) do not matter: the next offset after 13 is 14.
    expect(t.uncommitted()).toEqual([
      { topic: 'cmd', partition: 0, offset: '14' },
      { topic: 'cmd', partition: 1, offset: '6' },
    ]);
    expect(t.inFlight).toBe(0);
  });

  it('reports a position once, until it moves again', () => {
    const t = new OffsetTracker();
    t.confirm(t.track('cmd', 0, '0'));
    const first = t.uncommitted();
    t.markCommitted(first);
    expect(t.uncommitted()).toEqual([]);
    t.confirm(t.track('cmd', 0, '1'));
    expect(t.uncommitted()).toEqual([{ topic: 'cmd', partition: 0, offset: '2' }]);
  });

  it('ignores confirmations from before a rebalance, and double confirmations', () => {
    const t = new OffsetTracker();
    const old = t.track('cmd', 0, '7');
    t.reset();
    const fresh = t.track('cmd', 0, '3');
    t.confirm(old);
    expect(t.uncommitted()).toEqual([]);
    t.confirm(fresh);
    t.confirm(fresh);
    expect(t.inFlight).toBe(0);
    expect(t.uncommitted()).toEqual([{ topic: 'cmd', partition: 0, offset: '4' }]);
  });

  it('handles offsets beyond 2^53 and long queues', () => {
    const t = new OffsetTracker();
    const tickets = Array.from({ length: 3000 }, (_, i) => t.track('big', 0, (9007199254740993n + BigInt(i)).toString()));
    for (let i = tickets.length - 1; i >= 1; i--) t.confirm(tickets[i]);
    expect(t.uncommitted()).toEqual([]);
    t.confirm(tickets[0]);
    expect(t.uncommitted()).toEqual([{ topic: 'big', partition: 0, offset: (9007199254740993n + 3000n).toString() }]);
  });
});
