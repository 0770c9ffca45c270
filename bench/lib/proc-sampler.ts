import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/** VmRSS of `pid` in bytes (from /proc/<pid>/status), or undefined when it cannot be read. */
export function readRss(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds used so far by `pid` (its threads included), or undefined. */
export function readCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

export interface RssSummary {
  readonly maxMb: number;
  readonly avgMb: number;
  readonly samples: number;
}

/** Samples a process's resident memory at a fixed interval. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  private readonly values: number[] = [];

  constructor(
    private readonly pid: number | undefined,
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): RssSummary | undefined {
    clearInterval(this.timer);
    this.sample();
    if (!this.values.length) return undefined;
    const mb = (b: number) => b / (1024 * 1024);
    return {
      maxMb: mb(Math.max(...this.values)),
      avgMb: mb(this.values.reduce((a, b) => a + b, 0) / this.values.length),
      samples: this.values.length,
    };
  }

  private sample(): void {
    const rss = readRss(this.pid);
    if (rss !== undefined) this.values.push(rss);
  }
}

/**
 * CPU use of several processes over a window, as a percentage of one core (200% = both cores
 * of a 2-core machine). Tells which process was busy while a case ran.
 */
export class CpuMeter {
  private readonly start = new Map<string, number>();
  private readonly startedAt = performance.now();

  constructor(private readonly pids: Readonly<Record<string, number | undefined>>) {
    for (const [name, pid] of Object.entries(pids)) {
      const cpu = name === 'bench' ? selfCpuSeconds() : readCpuSeconds(pid);
      if (cpu !== undefined) this.start.set(name, cpu);
    }
  }

  /** Percent of one core per process since construction. */
  read(): Record<string, number> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.start.get(name);
      const now = name === 'bench' ? selfCpuSeconds() : readCpuSeconds(pid);
      if (before === undefined || now === undefined || seconds <= 0) continue;
      out[name] = Math.round(((now - before) / seconds) * 100);
    }
    return out;
  }
}

function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
