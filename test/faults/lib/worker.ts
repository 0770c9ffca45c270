import * as fs from 'node:fs';
import { WorkerHandle, WorkerStats } from '../../harness/worker/worker-handle';
import { withTimeout } from './scope';

/** pids of every worker child alive, killed by the exit hook whatever way the runner ends. */
const livePids = new Set<number>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

const MAX_LOG_BYTES = 8 * 1024 * 1024;

/** What a worker log held: counts of warnings and errors, and the last error lines. */
export interface WorkerLogSummary {
  readonly file: string;
  readonly lines: number;
  readonly warnings: number;
  readonly errors: number;
  readonly lastErrors: string[];
  /** Lines of interest, counted by kind (see EVENTS). */
  readonly events: Record<string, number>;
}

/** Worker log lines worth counting: they explain duplicates and delays in the table. */
const EVENTS: Array<[string, RegExp]> = [
  ['mqtt-disconnected', /disconnected from mqtt:\/\//],
  ['mqtt-receive-maximum-exceeded', /Receive Maximum exceeded/],
  ['mqtt-keepalive-timeout', /Keepalive timeout/],
  ['kafka-write-retried', /Kafka write of \d+ record\(s\) failed/],
  ['dead-letter-write-failed', /dead-letter write failed/],
  ['message-left-unacknowledged', /message left unacknowledged/],
];

/**
 * WorkerHandle (bench/lib) echoes its child's output to our stderr as "  [worker <name>] ...".
 * During an outage that is hundreds of retry and dead-letter lines, so they go to the scenario's
 * log file instead (test/faults/results/<scenario>.worker.log), and are counted.
 */
class WorkerLogTee {
  private fd?: number;
  private bytes = 0;
  private truncated = false;
  private summary = { file: '', lines: 0, warnings: 0, errors: 0, lastErrors: [] as string[], events: {} as Record<string, number> };
  private installed = false;

  open(file: string): void {
    this.install();
    this.close();
    this.fd = fs.openSync(file, 'w');
    this.bytes = 0;
    this.truncated = false;
    this.summary = { file, lines: 0, warnings: 0, errors: 0, lastErrors: [], events: {} };
  }

  close(): WorkerLogSummary {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    return { ...this.summary, lastErrors: [...this.summary.lastErrors], events: { ...this.summary.events } };
  }

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    const original = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
    process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : '';
      if (!text.startsWith('  [worker ')) return original(chunk, ...rest);
      this.record(text);
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stderr.write;
  }

  private record(text: string): void {
    const s = this.summary;
    s.lines++;
    if (/\bWARN\b/.test(text)) s.warnings++;
    for (const [kind, pattern] of EVENTS) if (pattern.test(text)) s.events[kind] = (s.events[kind] ?? 0) + 1;
    if (/\bERROR\b|"level":50/.test(text)) {
      s.errors++;
      s.lastErrors.push(text.trim().slice(0, 400));
      if (s.lastErrors.length > 8) s.lastErrors.shift();
    }
    if (this.fd === undefined) {
      process.stdout.write(text);
      return;
    }
    // A dead-letter outage logs every message (several lines each): keep the file bounded.
    if (this.bytes < MAX_LOG_BYTES) fs.writeSync(this.fd, text);
    else if (!this.truncated) fs.writeSync(this.fd, `  [faults] log truncated at ${MAX_LOG_BYTES} bytes; later lines are only counted\n`);
    this.truncated ||= this.bytes >= MAX_LOG_BYTES;
    this.bytes += text.length;
  }
}

export const workerLogs = new WorkerLogTee();

/**
 * The bridge worker of one scenario, run as a child process by test/harness/worker/worker-handle.ts on
 * the scenario's YAML file. It can be killed with SIGKILL (kill -9) and started again on the
 * same configuration, hence the same MQTT client id and persistent session.
 */
export class FaultWorker {
  private handle?: WorkerHandle;
  private generation = 0;

  constructor(
    readonly name: string,
    readonly configFile: string,
  ) {
    installExitHook();
  }

  get pid(): number | undefined {
    return this.handle?.pid;
  }

  get starts(): number {
    return this.generation;
  }

  /** Forks the worker and resolves once it is connected and subscribed (bounded by `timeoutMs`). */
  async start(timeoutMs = 60_000): Promise<number> {
    if (this.handle?.pid) throw new Error(`worker ${this.name} is already running (pid ${this.handle.pid})`);
    this.generation++;
    this.handle = await WorkerHandle.start(`${this.name}#${this.generation}`, this.configFile, {}, timeoutMs);
    const pid = this.handle.pid;
    if (pid) livePids.add(pid);
    return pid ?? -1;
  }

  /** kill -9: no drain, no offline status, no acknowledgement of what is in flight. */
  async kill9(): Promise<number | undefined> {
    const pid = this.handle?.pid;
    if (!this.handle) return undefined;
    await this.handle.kill();
    if (pid) livePids.delete(pid);
    this.handle = undefined;
    return pid;
  }

  /** Synchronous SIGKILL for the scenario watchdog. */
  killNow(): void {
    const pid = this.handle?.pid;
    if (!pid) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }

  async stats(timeoutMs = 10_000): Promise<WorkerStats | undefined> {
    if (!this.handle?.pid) return undefined;
    return withTimeout(this.handle.stats(), timeoutMs, `stats of worker ${this.name}`);
  }

  /** Graceful stop (drain up to 2 s); SIGKILL when that does not finish. */
  async stop(): Promise<void> {
    const handle = this.handle;
    const pid = handle?.pid;
    this.handle = undefined;
    if (!handle) return;
    try {
      await withTimeout(handle.stop(2_000), 20_000, `stopping worker ${this.name}`);
    } catch {
      await handle.kill();
    }
    if (pid) livePids.delete(pid);
  }
}
