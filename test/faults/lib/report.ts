import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StreamResult } from './analysis';
import { Profile } from './profile';
import { ScenarioReport } from './scenario';

const COLUMNS: Array<[string, (r: StreamResult) => string]> = [
  ['scenario', (r) => r.scenario],
  ['qos', (r) => String(r.qos)],
  ['sent', (r) => String(r.sent)],
  ['received', (r) => String(r.received)],
  ['lost', (r) => String(r.lost)],
  ['duplicated', (r) => String(r.duplicated)],
  ['order-violations', (r) => String(r.orderViolations)],
  ['seconds', (r) => r.seconds.toFixed(1)],
];

/** The table of the brief: one row per scenario and QoS; a scenario that failed gets an ERROR line. */
export function formatTable(reports: readonly ScenarioReport[]): string {
  const rows: string[][] = [];
  for (const report of reports) {
    for (const r of report.rows) rows.push(COLUMNS.map(([, cell]) => cell(r)));
    if (report.error) rows.push([report.name, '-', 'ERROR', firstLine(report.error), '', '', '', report.seconds.toFixed(1)]);
  }
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...rows.filter((r) => r[2] !== 'ERROR' || i < 3).map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells[2] === 'ERROR'
      ? `${cells[0].padEnd(widths[0])}  ${cells[1].padStart(widths[1])}  ERROR: ${cells[3]}`
      : cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const header = line(COLUMNS.map(([title]) => title));
  return [header, '-'.repeat(header.length), ...rows.map(line)].join('\n');
}

/** Notes, errors and clean-up problems per scenario, for below the table. */
export function formatNotes(reports: readonly ScenarioReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    const lines = [...r.notes, ...r.cleanupProblems.map((p) => `clean-up: ${p}`)];
    if (r.error) lines.unshift(`ERROR: ${r.error.split('\n').slice(0, 6).join('\n    ')}`);
    const pubs = Object.entries(r.publishers)
      .map(([q, s]) => `${q} resent ${s.resentPackets} packet(s), ${s.connects} connect(s)`)
      .join('; ');
    if (pubs) lines.push(`publishers: ${pubs}`);
    out.push(`${r.name} (${r.seconds.toFixed(0)} s, worker started ${r.worker.starts}x): ${r.title}`);
    for (const l of lines) out.push(`  - ${l}`);
  }
  return out.join('\n');
}

export function passed(reports: readonly ScenarioReport[]): { lossFree: boolean; complete: boolean } {
  const rows = reports.flatMap((r) => r.rows);
  return { lossFree: rows.every((r) => r.lost === 0), complete: reports.every((r) => !r.error && r.rows.length === 2) };
}

export interface RunInfo {
  readonly profile: Profile;
  readonly startedAt: Date;
  readonly kafkaVersion?: string;
  readonly aborted?: string;
}

/** Writes the whole run (rows, timelines, publisher and worker figures, notes) as JSON. */
export function writeJson(file: string, info: RunInfo, reports: readonly ScenarioReport[]): void {
  const { lossFree, complete } = passed(reports);
  const body = {
    mode: info.profile.name,
    startedAt: info.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - info.startedAt.getTime()) / 100) / 10,
    passed: lossFree && complete && !info.aborted,
    lossFree,
    complete,
    aborted: info.aborted,
    machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}` },
    kafkaVersion: info.kafkaVersion,
    mosquittoVersion: mosquittoVersion(),
    profile: info.profile,
    rows: reports.flatMap((r) => r.rows),
    scenarios: reports,
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
}

function mosquittoVersion(): string {
  try {
    const out = execFileSync(process.env.MOSQUITTO_BIN || 'mosquitto', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5_000 });
    return out.split('\n')[0].trim();
  } catch (error) {
    const out = String((error as { stdout?: string }).stdout ?? '');
    return out.split('\n')[0].trim() || 'unknown';
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 160);
}
