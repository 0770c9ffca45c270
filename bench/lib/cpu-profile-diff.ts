/**
 * Where one case's extra CPU goes: two worker profiles of the same run (BENCH_CPU_PROF), each
 * divided by its message count, so the per-area and per-function self times read as µs per
 * message and their difference as what the second case adds over the first.
 *   node -r ts-node/register/transpile-only bench/lib/cpu-profile-diff.ts <base.cpuprofile> <messages> <other.cpuprofile> <messages> [top]
 * Sampled time includes idle ("(idle)"), which is not CPU: compare the other rows.
 */
import { summarizeProfile } from './cpu-profile';

interface Row {
  readonly key: string;
  readonly base: number;
  readonly other: number;
}

function perMessage(entries: ReadonlyArray<{ key: string; ms: number }>, messages: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) out.set(e.key, (out.get(e.key) ?? 0) + (e.ms * 1000) / messages);
  return out;
}

function rows(base: Map<string, number>, other: Map<string, number>): Row[] {
  const keys = new Set([...base.keys(), ...other.keys()]);
  return [...keys].map((key) => ({ key, base: base.get(key) ?? 0, other: other.get(key) ?? 0 })).sort((a, b) => b.other - b.base - (a.other - a.base));
}

function format(title: string, list: readonly Row[], top: number): string[] {
  const lines = [`  ${title} (µs per message: base, other, difference):`];
  for (const r of list.slice(0, top)) {
    lines.push(
      `    ${r.base.toFixed(2).padStart(7)} ${r.other.toFixed(2).padStart(7)} ${(r.other - r.base >= 0 ? '+' : '') + (r.other - r.base).toFixed(2).padStart(6)}  ${r.key}`,
    );
  }
  return lines;
}

if (require.main === module) {
  const [baseFile, baseText, otherFile, otherText, topText] = process.argv.slice(2);
  const baseMessages = Number(baseText);
  const otherMessages = Number(otherText);
  if (!baseFile || !otherFile || !(baseMessages > 0) || !(otherMessages > 0)) {
    process.stderr.write('usage: cpu-profile-diff.ts <base.cpuprofile> <messages> <other.cpuprofile> <messages> [top]\n');
    process.exit(2);
  }
  const top = Number(topText ?? 20);
  const base = summarizeProfile(baseFile, 100_000);
  const other = summarizeProfile(otherFile, 100_000);
  const areas = rows(
    perMessage(
      base.areas.map((a) => ({ key: a.area, ms: a.ms })),
      baseMessages,
    ),
    perMessage(
      other.areas.map((a) => ({ key: a.area, ms: a.ms })),
      otherMessages,
    ),
  );
  const functions = rows(
    perMessage(
      base.functions.map((f) => ({ key: `${f.name}  ${f.where}`, ms: f.ms })),
      baseMessages,
    ),
    perMessage(
      other.functions.map((f) => ({ key: `${f.name}  ${f.where}`, ms: f.ms })),
      otherMessages,
    ),
  );
  const busy = (list: readonly Row[], pick: (r: Row) => number) => list.filter((r) => r.key !== '(idle)').reduce((n, r) => n + pick(r), 0);
  const lines = [
    `base ${baseFile} (${baseMessages} messages), other ${otherFile} (${otherMessages} messages)`,
    `  sampled non-idle µs per message: base ${busy(areas, (r) => r.base).toFixed(2)}, other ${busy(areas, (r) => r.other).toFixed(2)}`,
    ...format('self time by area, largest increase first', areas, top),
    ...format('self time by function, largest increase first', functions, top),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
