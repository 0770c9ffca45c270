import { AckSequencer } from './ack-sequencer';

describe('AckSequencer', () => {
  it('sends acknowledgements in arrival order when writes complete out of order', () => {
    const seq = new AckSequencer();
    const sent: number[] = [];
    const tickets = [1, 2, 3].map((id) => {
      const t = seq.track();
      seq.attach(t, () => sent.push(id));
      return t;
    });
    seq.complete(tickets[2]);
    seq.complete(tickets[1]);
    expect(sent).toEqual([]);
    seq.complete(tickets[0]);
    expect(sent).toEqual([1, 2, 3]);
    expect(seq.pending).toBe(0);
  });

  it('waits for the ack packet even when the message is already done', () => {
    const seq = new AckSequencer();
    const sent: string[] = [];
    const a = seq.track();
    const b = seq.track();
    seq.complete(a);
    seq.complete(b);
    seq.attach(b, () => sent.push('b'));
    expect(sent).toEqual([]);
    seq.attach(a, () => sent.push('a'));
    expect(sent).toEqual(['a', 'b']);
  });

  it('drops acknowledgements of a previous connection', () => {
    const seq = new AckSequencer();
    const sent: string[] = [];
    const old = seq.track();
    seq.attach(old, () => sent.push('old'));
    seq.reset();
    const fresh = seq.track();
    seq.attach(fresh, () => sent.push('new'));
    seq.complete(old);
    seq.complete(fresh);
    expect(sent).toEqual(['new']);
  });

  it('keeps order over many entries and compacts its queue', () => {
    const seq = new AckSequencer();
    const sent: number[] = [];
    const tickets = Array.from({ length: 5000 }, (_, i) => {
      const t = seq.track();
      seq.attach(t, () => sent.push(i));
      return t;
    });
    for (let i = tickets.length - 1; i >= 1; i--) seq.complete(tickets[i]);
    expect(sent).toHaveLength(0);
    seq.complete(tickets[0]);
    expect(sent).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(seq.pending).toBe(0);
  });

  it('says how long the oldest unsent acknowledgement has waited, which is what holds the rest', () => {
    const seq = new AckSequencer();
    expect(seq.oldestPendingMs()).toBe(0);
    const before = performance.now();
    const first = seq.track();
    const second = seq.track();
    const now = performance.now();
    seq.attach(second, () => undefined);
    seq.complete(second);
    const held = seq.oldestPendingMs(now + 5_000);
    expect(held).toBeGreaterThanOrEqual(5_000);
    expect(held).toBeLessThanOrEqual(5_000 + (now - before));
    seq.attach(first, () => undefined);
    seq.complete(first);
    expect(seq.oldestPendingMs(now + 5_000)).toBe(0);
  });
});
