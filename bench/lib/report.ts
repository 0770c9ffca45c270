import * as fs from 'node:fs';
import * as path from 'node:path';
import { sizeLabel } from './cases';
import { BenchReport, Comparison, RateResult, Spread, TARGETS } from './results';

const int = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const fixed = (n: number | undefined, digits = 1) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

const MAIN_PROCESS: Record<RateResult['kind'], string> = {
  'publisher-alone': 'bench',
  'limit-A': 'subscriber',
  'limit-B': 'bench',
  bridge: 'worker',
  ceiling: 'worker',
};

/** Adds the CPU cost per message of the run's main process, and flags a publisher that may be limiting. */
export function withDerived(r: RateResult): RateResult {
  const cpu = r.cpuPercent?.[MAIN_PROCESS[r.kind]];
  const cpuMicrosPerMessage = cpu !== undefined && r.arrived > 0 ? ((cpu / 100) * r.seconds * 1e6) / r.arrived : undefined;
  const publisherBound = (r.kind === 'bridge' || r.kind === 'ceiling') && r.publisherRate !== undefined && r.publisherRate < 1.15 * r.rate;
  const note = publisherBound ? [r.note, 'publisher barely faster than the bridge: may be limiting'].filter(Boolean).join('; ') : r.note;
  return { ...r, cpuMicrosPerMessage, note };
}

/** min(limit A, limit B) for a payload size, when both were measured. */
export function limitFor(runs: readonly RateResult[], payloadBytes: number): { a?: RateResult; b?: RateResult; min?: number } {
  const a = runs.find((r) => r.kind === 'limit-A' && r.payloadBytes === payloadBytes);
  const b = runs.find((r) => r.kind === 'limit-B' && r.payloadBytes === payloadBytes);
  return { a, b, min: a && b ? Math.min(a.rate, b.rate) : (a ?? b)?.rate };
}

function cpuText(cpu: Record<string, number> | undefined): string {
  if (!cpu) return '-';
  const order = ['bench', 'worker', 'subscriber', 'mosquitto', 'kafka'];
  const short: Record<string, string> = { bench: 'b', worker: 'w', subscriber: 's', mosquitto: 'm', kafka: 'k' };
  return order
    .filter((k) => cpu[k] !== undefined)
    .map((k) => `${short[k]}${cpu[k]}`)
    .join(' ');
}

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
}

/** The human-readable table: header with the machine, one row per run, latency and memory below. */
export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(`MQTT -> Kafka bridge benchmark, ${report.startedAt} (${fixed(report.durationSeconds, 0)} s)`);
  out.push(
    `machine: ${m.nproc} cpu (${m.cpuModel}), ${m.memoryGb} GB, ${m.os}; node ${m.node}; Kafka ${m.kafkaVersion} (${m.kafkaBrokers}); ` +
      `Mosquitto ${m.mosquittoVersion} (${m.mqttUrl}); idle RSS: node ${fixed(m.idleNodeRssMb, 0)} MB, node+ts-node ${fixed(m.idleTsNodeRssMb, 0)} MB`,
  );
  if (report.loadAverage) {
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    out.push(`load average (1 5 15 min): ${load(report.loadAverage.start)} at the start, ${load(report.loadAverage.end)} at the end`);
  }
  out.push(
    `settings: ${Object.entries(report.settings)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ')}`,
  );
  out.push('');
  const head = [
    'case',
    'msgs',
    'seconds',
    'msg/s',
    'MB/s',
    'ratio',
    'pub msg/s',
    'cpu% (b,w/s,m,k)',
    'µs cpu/msg',
    'RSS MB idle/max',
    'rec/req',
    'ms/req',
    'infl max',
    'target',
    'note',
  ];
  const right = [false, true, true, true, true, true, true, false, true, true, true, true, true, false, false];
  const rows: string[][] = [];
  const sizes = [...new Set(report.runs.map((r) => r.payloadBytes))];
  for (const size of sizes) {
    const { min } = limitFor(report.runs, size);
    for (const r of report.runs.filter((x) => x.payloadBytes === size)) {
      let target = '';
      if (r.ratioTarget !== undefined && r.ratio !== undefined) {
        target = `>= ${r.ratioTarget.toFixed(2)} ${r.ratio >= r.ratioTarget ? 'met' : 'MISSED'}`;
      }
      const w = r.worker;
      const notes = [r.note, ...Object.entries(w?.produceFailures ?? {}).map(([type, n]) => `${n} failed produce requests (${type})`)];
      rows.push([
        (r.kind === 'bridge' ? `bridge ${r.name}` : r.name) + (r.round ? ` #${r.round}` : ''),
        int(r.arrived) + (r.complete ? '' : `/${int(r.messages)}`),
        fixed(r.seconds, 2),
        int(r.rate),
        fixed(r.mbPerSecond, 1),
        r.ratio === undefined ? '' : fixed(r.ratio, 2),
        int(r.publisherRate),
        cpuText(r.cpuPercent),
        fixed(r.cpuMicrosPerMessage, 1),
        r.rssMaxMb === undefined ? '' : `${fixed(w?.idleRssMb, 0)}/${fixed(r.rssMaxMb, 0)}`,
        w
          ? fixed(w.recordsPerRequest, 1)
          : r.batchRecords !== undefined
            ? Number.isInteger(r.batchRecords)
              ? String(r.batchRecords)
              : fixed(r.batchRecords, 1)
            : '',
        w ? fixed(w.msPerRequest, 1) : fixed(r.msPerRequest, 1).replace(/^-$/, ''),
        w ? String(w.inFlightMax) : '',
        target,
        notes.filter(Boolean).join('; '),
      ]);
    }
    rows.push([`  min(A,B) ${sizeLabel(size)}`, '', '', int(min), '', '', '', '', '', '', '', '', '', '', '']);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  out.push(pad(head, widths, right));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out.push(pad(r, widths, right).trimEnd());
  out.push('');
  if (report.comparisons?.length) {
    out.push('side by side (same run):');
    for (const c of report.comparisons) out.push(`  ${formatComparison(c)}`);
    out.push('');
  }
  const l = report.latency;
  if (l) {
    const p99ok = l.p99Ms <= TARGETS.p99MaxMs;
    out.push(
      `latency publish -> Kafka, QoS ${l.qos} ${sizeLabel(l.payloadBytes)} at ${int(l.offeredRate)} msg/s offered ` +
        `(${int(l.achievedPublishRate)} achieved, ${fixed(l.seconds, 1)} s, ${int(l.received)}/${int(l.sent)} received, ` +
        `${int(l.samples)} samples after ${l.warmupMs} ms warm-up; cpu% ${cpuText(l.cpuPercent)}` +
        (l.worker
          ? `; worker ${fixed(l.worker.recordsPerRequest, 1)} rec/req, ${fixed(l.worker.msPerRequest, 1)} ms/req, ` +
            `in-flight avg ${fixed(l.worker.inFlightAvg, 0)} max ${l.worker.inFlightMax}, ` +
            `event-loop delay p99 ${fixed(l.worker.loopDelayP99Ms, 1)} max ${fixed(l.worker.loopDelayMaxMs, 1)} ms` +
            (l.worker.gc
              ? `, GC pauses: ${l.worker.gc.scavenges} scavenges ${fixed(l.worker.gc.scavengeMs, 0)} ms (max ${fixed(l.worker.gc.scavengeMaxMs, 1)}), ` +
                `${l.worker.gc.majors} other ${fixed(l.worker.gc.majorMs, 0)} ms (max ${fixed(l.worker.gc.majorMaxMs, 1)})`
              : '')
          : '') +
        '):',
    );
    out.push(
      `  p50 ${fixed(l.p50Ms, 2)} ms   p99 ${fixed(l.p99Ms, 2)} ms   p99.9 ${fixed(l.p999Ms, 2)} ms   max ${fixed(l.maxMs, 2)} ms` +
        `      target p99 <= ${TARGETS.p99MaxMs} ms: ${p99ok ? 'met' : 'MISSED'}`,
    );
    const tl = l.timeline.map((b) => `${(b.fromMs / 1000).toFixed(1)}s:${fixed(b.p50Ms, 1)}/${fixed(b.p99Ms, 1)}`).join(' ');
    out.push(`  p50/p99 ms by publish time (after ${int(l.warmupMessages)} warm-up messages): ${tl}`);
    if (l.rss) {
      const ok = l.rss.maxMb <= TARGETS.rssMaxMb;
      out.push(
        `worker RSS during the latency run: max ${fixed(l.rss.maxMb, 1)} MB, avg ${fixed(l.rss.avgMb, 1)} MB (${l.rss.samples} samples; ` +
          `${fixed(l.worker?.idleRssMb, 1)} MB idle before traffic, ts-node included` +
          (l.worker?.endMemoryMb
            ? `; at the end: live heap ${fixed(l.worker.endMemoryMb.heapUsed, 0)} MB (after GC) of ${fixed(l.worker.endMemoryMb.heapTotal, 0)} MB, external ${fixed(l.worker.endMemoryMb.external, 0)} MB`
            : '') +
          ')' +
          `      target <= ${TARGETS.rssMaxMb} MB: ${ok ? 'met' : 'MISSED'}`,
      );
    }
  } else {
    out.push('latency: not measured');
  }
  if (report.profiles?.length) out.push(`cpu profiles: ${report.profiles.join(', ')}`);
  for (const e of report.errors) out.push(`ERROR: ${e}`);
  return out.join('\n');
}

const signed = (n: number, digits: number, scale = 1) => (n >= 0 ? '+' : '') + fixed(n * scale, digits);

/** A median, with the range over rounds when there were several. */
function spreadText(v: Spread, rounds: number, format: (n: number) => string): string {
  return rounds > 1 ? `${format(v.median)} (${format(v.min)}..${format(v.max)})` : format(v.median);
}

function formatComparison(c: Comparison): string {
  const f = (format: (n: number) => string) => (v: Spread) => spreadText(v, c.rounds, format);
  const cpu =
    c.cpuUs && c.referenceCpuUs && c.cpuDeltaUs && c.cpuChange
      ? `; CPU ${f((n) => fixed(n, 1))(c.cpuUs)} vs ${f((n) => fixed(n, 1))(c.referenceCpuUs)} µs/msg, ` +
        `${f((n) => signed(n, 1))(c.cpuDeltaUs)} µs, ${f((n) => signed(n, 0, 100))(c.cpuChange)} %`
      : '';
  const targets = c.targets.map((t) => `target ${t.label}: ${t.met ? 'met' : 'MISSED'}`).join('; ');
  const rounds = c.rounds > 1 ? ` [medians of ${c.rounds} rounds]` : '';
  return `${c.label}${rounds}: throughput ratio ${f((n) => fixed(n, 2))(c.rateRatio)}${cpu}${targets ? `      ${targets}` : ''}`;
}

/** Writes bench/results/bridge-<timestamp>.json and bench/results/latest.json; returns the first path. */
export function writeReport(report: BenchReport, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:]/g, '-');
  const file = path.join(dir, `bridge-${stamp}.json`);
  const json = JSON.stringify(report, null, 2) + '\n';
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(dir, 'latest.json'), json);
  return file;
}
