import { CollectedRecord } from './collector';

/** One row of the report: what one QoS stream of one scenario lost, doubled or reordered. */
export interface StreamResult {
  readonly scenario: string;
  readonly qos: 1 | 2;
  /** Acknowledged to the publisher by Mosquitto (PUBACK / PUBCOMP). */
  readonly sent: number;
  /** Distinct sequence numbers found in the scenario's destination topic. */
  readonly received: number;
  /** Sent but never received. */
  readonly lost: number;
  /** Records beyond the first per sequence number. */
  readonly duplicated: number;
  /** Per key: a sequence number appearing for the first time after a higher one of the same key. */
  readonly orderViolations: number;
  /** From the first publish until every sent message was in Kafka (or until the check gave up). */
  readonly seconds: number;
  /** Records in the destination topic, duplicates included. */
  readonly records: number;
  /** Received although the publisher never got an acknowledgement for them (not an error). */
  readonly receivedUnacked: number;
  /** Up to 20 lost sequence numbers, for the evidence. */
  readonly lostSample: number[];
  /**
   * Fewest first appearances that would have to move to restore publish order, over all keys
   * (first appearances minus their longest increasing run). One message written too early makes
   * every later first appearance of its key a violation; this counts it once.
   */
  readonly misplaced: number;
  /** Up to 10 order violations: key, the late sequence number, the higher one seen before it. */
  readonly violationSample: Array<{ key: string; seq: number; after: number; offset: number }>;
  /** Records whose payload is not a sequence number. */
  readonly foreign: number;
}

export function analyse(scenario: string, qos: 1 | 2, sent: ReadonlySet<number>, records: readonly CollectedRecord[], seconds: number): StreamResult {
  const seen = new Set<number>();
  let duplicated = 0;
  let foreign = 0;
  for (const r of records) {
    if (!Number.isInteger(r.seq)) foreign++;
    else if (seen.has(r.seq)) duplicated++;
    else seen.add(r.seq);
  }
  const lostAll = [...sent].filter((seq) => !seen.has(seq)).sort((a, b) => a - b);
  let receivedUnacked = 0;
  for (const seq of seen) if (!sent.has(seq)) receivedUnacked++;
  const { count, sample, misplaced } = orderViolations(records);
  return {
    scenario,
    qos,
    sent: sent.size,
    received: seen.size,
    lost: lostAll.length,
    duplicated,
    orderViolations: count,
    misplaced,
    seconds: Math.round(seconds * 10) / 10,
    records: records.length,
    receivedUnacked,
    lostSample: lostAll.slice(0, 20),
    violationSample: sample,
    foreign,
  };
}

/**
 * Records of one key sit in one partition, so offset order is the order Kafka keeps them in.
 * Records without a key are ordered per partition only, so each partition counts as one key.
 * A sequence number seen for the first time while a higher one of its key was already seen is
 * one violation (a redelivered duplicate of an older message is not: it is not a first appearance).
 */
export function orderViolations(records: readonly CollectedRecord[]): { count: number; misplaced: number; sample: StreamResult['violationSample'] } {
  const byKey = new Map<string, CollectedRecord[]>();
  for (const r of records) {
    if (!Number.isInteger(r.seq)) continue;
    const key = r.key === '' ? `(no key) p${r.partition}` : r.key;
    const list = byKey.get(key) ?? [];
    list.push(r);
    byKey.set(key, list);
  }
  let count = 0;
  let misplaced = 0;
  const sample: StreamResult['violationSample'] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const seen = new Set<number>();
    const firsts: number[] = [];
    let highest = -1;
    for (const r of list) {
      if (seen.has(r.seq)) continue;
      seen.add(r.seq);
      firsts.push(r.seq);
      if (r.seq < highest) {
        count++;
        if (sample.length < 10) sample.push({ key, seq: r.seq, after: highest, offset: r.offset });
      }
      highest = Math.max(highest, r.seq);
    }
    misplaced += firsts.length - longestIncreasing(firsts);
  }
  return { count, misplaced, sample };
}

/** Length of the longest strictly increasing subsequence (patience sorting, O(n log n)). */
function longestIncreasing(values: readonly number[]): number {
  const tails: number[] = [];
  for (const v of values) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = v;
  }
  return tails.length;
}
