import { Admin } from 'kafkajs';

export interface ArrivalResult {
  /** Records present at the end (sum of high watermarks); above the target: duplicates. */
  readonly count: number;
  /** performance.now() of the poll that first saw the target (or, when incomplete, the final count). */
  readonly lastArrivalAt: number;
  /** True when `target` was reached, false when the count stalled or the timeout hit. */
  readonly complete: boolean;
}

/** Records in `topic`: the sum of its partitions' high watermarks (a fresh topic starts at 0). */
export async function recordCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/**
 * Polls `topic` until it holds `target` records, until the count has not moved for `stallMs`
 * (lost QoS 0 messages never arrive), or until `timeoutMs`. The arrival time of the last record
 * is the poll that first saw `target` (or the final count), so it is late by at most one poll
 * interval. Once `target` is reached the topic is watched `settleMs` longer: a count above
 * `target` means duplicates.
 */
export async function waitForRecords(
  admin: Admin,
  topic: string,
  target: number,
  opts: {
    pollMs?: number;
    stallMs?: number;
    timeoutMs?: number;
    settleMs?: number;
    /** Called when the target is reached (before the settle time) or polling gives up. */
    onEnd?: () => void;
  } = {},
): Promise<ArrivalResult> {
  const { pollMs = 25, stallMs = 5_000, timeoutMs = 60_000, settleMs = 500 } = opts;
  const started = performance.now();
  let count = -1;
  let lastArrivalAt = started;
  for (;;) {
    const now = await recordCount(admin, topic);
    const at = performance.now();
    if (now !== count) {
      count = now;
      lastArrivalAt = at;
    }
    if (count >= target) break;
    if (at - lastArrivalAt > stallMs || at - started > timeoutMs) {
      opts.onEnd?.();
      return { count, lastArrivalAt, complete: false };
    }
    await sleep(pollMs);
  }
  opts.onEnd?.();
  await sleep(settleMs);
  return { count: await recordCount(admin, topic), lastArrivalAt, complete: true };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
