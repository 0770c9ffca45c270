import * as fs from 'node:fs';
import * as path from 'node:path';
import { KafkaBroker } from '../../harness/kafka.broker';
import { analyse, StreamResult } from './analysis';
import { CollectedRecord, KafkaCollector } from './collector';
import { StreamNames } from './config';
import { Profile } from './profile';
import { SequencePublisher } from './publisher';
import { Scope } from './scope';

export interface VerifyInput {
  readonly scenario: string;
  readonly kafka: KafkaBroker;
  readonly profile: Profile;
  readonly scope: Scope;
  readonly streams: readonly StreamNames[];
  /** Same order as `streams`. */
  readonly publishers: readonly SequencePublisher[];
  /** The destination is the dead-letter topic (every message is dead-lettered). */
  readonly deadLetterAll: boolean;
  /** Where evidence files go (records of a stream that lost or reordered messages). */
  readonly resultsDir: string;
  /** Date.now() of the first publish. */
  readonly streamStart: number;
  mark(event: string): void;
}

/**
 * Reads the scenario's topics until Kafka holds every message the publishers got acknowledged
 * (or `verifyTimeoutMs` passed), keeps reading `settleMs` longer for late duplicates and up to
 * the high watermarks, then computes one row per QoS. Records in the topic that should stay
 * empty (the DLQ of a pass-through scenario, the destination of a dead-letter one) become notes.
 */
export async function verify(input: VerifyInput): Promise<{ rows: StreamResult[]; notes: string[] }> {
  const { kafka, profile, scope, streams, publishers, deadLetterAll, streamStart, mark } = input;
  const expected = (s: StreamNames) => (deadLetterAll ? s.deadLetterTopic : s.kafkaTopic);
  const other = (s: StreamNames) => (deadLetterAll ? s.kafkaTopic : s.deadLetterTopic);
  const topics = streams.flatMap((s) => [expected(s), other(s)]);
  const collector = await KafkaCollector.start(kafka.brokers, topics);
  scope.defer('stop the Kafka collector', () => collector.stop());
  const sent = publishers.map((p) => p.ackedSet());
  const doneAt: Array<number | undefined> = streams.map(() => undefined);

  const complete = await scope.until(
    async () => {
      streams.forEach((s, i) => {
        if (doneAt[i] !== undefined) return;
        const seen = collector.seqsOf(expected(s));
        for (const seq of sent[i]) if (!seen.has(seq)) return;
        doneAt[i] = Date.now();
        mark(`q${s.qos}: all ${sent[i].size} acknowledged messages are in ${expected(s)}`);
      });
      return doneAt.every((d) => d !== undefined) && (await collector.caughtUp());
    },
    profile.verifyTimeoutMs,
    250,
  );
  const endedAt = Date.now();
  if (!complete) mark(`gave up waiting after ${profile.verifyTimeoutMs} ms: something is missing`);
  await scope.sleep(profile.settleMs);
  const caughtUp = await scope.until(() => collector.caughtUp(), 15_000, 250);

  const notes: string[] = [];
  if (!caughtUp) notes.push('the collector did not read up to the high watermarks: duplicate counts may be low');
  const rows = streams.map((s, i) => analyse(input.scenario, s.qos, sent[i], collector.recordsOf(expected(s)), ((doneAt[i] ?? endedAt) - streamStart) / 1000));
  for (const s of streams) {
    const stray = collector.recordsOf(other(s)).length;
    if (stray > 0) notes.push(`q${s.qos}: ${stray} record(s) in ${other(s)}, which should stay empty in this scenario`);
    const held = await collector.heldBy(expected(s));
    const read = collector.recordsOf(expected(s)).length;
    if (held !== read) notes.push(`q${s.qos}: Kafka holds ${held} record(s) in ${expected(s)}, the collector read ${read}`);
  }
  streams.forEach((s, i) => {
    if (rows[i].lost === 0 && rows[i].orderViolations === 0) return;
    const file = path.join(input.resultsDir, `${input.scenario}.q${s.qos}.records.csv`);
    dumpRecords(file, collector.recordsOf(expected(s)));
    notes.push(`q${s.qos}: every record of ${expected(s)} (partition, offset, key, seq) is in ${path.relative(process.cwd(), file)}`);
  });
  for (const r of rows) {
    if (r.foreign > 0) notes.push(`q${r.qos}: ${r.foreign} record(s) whose payload is not a sequence number`);
    if (r.lost > 0) notes.push(`q${r.qos}: LOST ${r.lost}, first ones: ${r.lostSample.join(', ')}`);
    if (r.orderViolations > 0) {
      const v = r.violationSample.slice(0, 3).map((x) => `key ${x.key}: ${x.seq} after ${x.after} (offset ${x.offset})`);
      notes.push(`q${r.qos}: ${r.orderViolations} order violation(s) caused by ${r.misplaced} message(s) out of place, e.g. ${v.join('; ')}`);
    }
  }
  return { rows, notes };
}

function dumpRecords(file: string, records: readonly CollectedRecord[]): void {
  const sorted = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  fs.writeFileSync(file, ['partition,offset,key,seq', ...sorted.map((r) => `${r.partition},${r.offset},${r.key},${r.seq}`)].join('\n') + '\n');
}
