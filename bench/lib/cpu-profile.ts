/**
 * Self-time summary of a V8 .cpuprofile (as written by --cpu-prof or the inspector's Profiler).
 * Also runnable:  node -r ts-node/register/transpile-only bench/lib/cpu-profile.ts <file.cpuprofile> [top]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeEntry {
  readonly name: string;
  readonly where: string;
  readonly area: string;
  readonly ms: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly functions: SelfTimeEntry[];
  /** Self time per package / library / runtime bucket. */
  readonly areas: Array<{ area: string; ms: number; percent: number }>;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Which code a frame belongs to: an npm package, one of the repo's libs, Node internals, or V8 bookkeeping. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const lib = /\/libs\/([^/]+)\//.exec(url);
  if (lib) return `@app/${lib[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/bench/')) return 'bench';
  return path.relative(REPO_ROOT, url.replace(/^file:\/\//, '')) || url;
}

function whereOf(url: string, line: number): string {
  if (!url) return '';
  const file = url.replace(/^file:\/\//, '');
  const short = file.includes('node_modules/') ? file.slice(file.lastIndexOf('node_modules/') + 13) : path.relative(REPO_ROOT, file) || file;
  return `${short}:${line + 1}`;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; attribute the gap to the next sample's frame.
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const functions = new Map<string, { name: string; where: string; area: string; us: number }>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = whereOf(url, lineNumber);
    const area = areaOf(url, name);
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, area, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  return {
    totalMs: total / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, area: f.area, ms: f.us / 1000, percent: (100 * f.us) / total })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, percent: (100 * us) / total })),
  };
}

export function formatSummary(file: string, summary: ProfileSummary, topAreas = 12): string {
  const lines = [`${file}: ${summary.totalMs.toFixed(0)} ms sampled`, '  self time by area:'];
  for (const a of summary.areas.slice(0, topAreas)) lines.push(`    ${a.percent.toFixed(1).padStart(5)}%  ${a.ms.toFixed(0).padStart(6)} ms  ${a.area}`);
  lines.push('  top functions by self time:');
  for (const f of summary.functions) {
    lines.push(`    ${f.percent.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpu-profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(formatSummary(file, summarizeProfile(file, Number(top ?? 25))) + '\n');
}
