import { BackgroundLink } from './background-link';
import { DestinationUnavailableError, ShutdownError } from './bridge.error';
import { settleWithin } from './testing/destination.contract';

/** A broker the link connects to: refuses while down, hands out numbered connections while up. */
function broker() {
  const state = { up: false, attempts: 0, opened: [] as number[], disposed: [] as number[] };
  const logs: Array<{ level: 'log' | 'warn'; msg: string }> = [];
  const link = new BackgroundLink<number>({
    what: 'unit destination',
    policy: { initialMs: 10, maxMs: 20, maxAttempts: 2, maxElapsedMs: 50 },
    log: {
      log: (m) => logs.push({ level: 'log', msg: (m as { msg: string }).msg }),
      warn: (m) => logs.push({ level: 'warn', msg: (m as { msg: string }).msg }),
    },
    open: async () => {
      state.attempts++;
      if (!state.up) throw new Error('ECONNREFUSED');
      state.opened.push(state.attempts);
      return state.attempts;
    },
    dispose: async (n) => void state.disposed.push(n),
  });
  return { state, logs, link };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BackgroundLink', () => {
  it('keeps trying past the policy bounds while down, says so once, then once more when connected', async () => {
    const { state, logs, link } = broker();
    link.start();
    await tick(150);
    // The policy allows 2 attempts and 50 ms: those bound writes, never the reconnecting.
    expect(state.attempts).toBeGreaterThan(3);
    expect(link.up).toBe(false);
    expect(logs).toEqual([{ level: 'warn', msg: expect.stringContaining('not connected yet') }]);

    state.up = true;
    await tick(50);
    expect(link.up).toBe(true);
    expect(logs.slice(1)).toEqual([{ level: 'log', msg: 'destination connected' }]);
    await link.close();
    expect(state.disposed).toEqual(state.opened);
  });

  it('get() waits for the connection, fails retriably after its wait, and hands over the connection the moment it opens', async () => {
    const { state, link } = broker();
    link.start();
    await expect(link.get(30)).rejects.toBeInstanceOf(DestinationUnavailableError);
    const waiting = link.get(5_000);
    state.up = true;
    const connection = await waiting;
    expect(connection).toBe(state.opened[0]);
    await link.close();
  });

  it('close() ends waiting get() and untilClosed() work with a ShutdownError, and get() after it too', async () => {
    const { link } = broker();
    link.start();
    const waiting = link.get(5_000);
    const work = link.untilClosed(new Promise<void>(() => undefined));
    await link.close();
    expect(await settleWithin(waiting, 50)).toEqual({ state: 'rejected', error: expect.any(ShutdownError) });
    expect(await settleWithin(work, 50)).toEqual({ state: 'rejected', error: expect.any(ShutdownError) });
    await expect(link.get(5_000)).rejects.toBeInstanceOf(ShutdownError);
  });

  it('lost() reconnects in the background; a stale loss report is ignored', async () => {
    const { state, logs, link } = broker();
    state.up = true;
    link.start();
    const first = await link.get(1_000);
    link.lost(first + 100);
    expect(link.up).toBe(true);
    link.lost(first);
    expect(link.up).toBe(false);
    const second = await link.get(1_000);
    expect(second).not.toBe(first);
    expect(logs.map((l) => l.msg)).toEqual(['destination connected', expect.stringContaining('lost'), 'destination connected']);
    await link.close();
  });
});
