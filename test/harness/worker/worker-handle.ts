import { ProduceCounters } from './kafka-probe';
import { TsChild } from './ts-child';
import { workerLaunch } from './worker-build';

export interface WorkerStats {
  readonly stats: Record<string, { received: number; delivered: number; deadLettered: number; reasons: Record<string, number> }>;
  readonly inFlight: number;
  /** Messages held by the worker (received, not yet confirmed), sampled every 5 ms since `reset()`. */
  readonly inFlightMax: number;
  readonly inFlightAvg: number;
  /** The worker's produce requests since `reset()`. */
  readonly produce: ProduceCounters;
  /** Event-loop delay since `reset()` (perf_hooks.monitorEventLoopDelay, 5 ms resolution). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Main-thread GC pauses since `reset()`: scavenges (young generation) and the rest (mark-sweep, incremental marking). */
  readonly gc: GcPauses;
}

export interface GcPauses {
  readonly scavenges: number;
  readonly scavengeMs: number;
  readonly scavengeMaxMs: number;
  readonly majors: number;
  readonly majorMs: number;
  readonly majorMaxMs: number;
}

export interface WorkerMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Extra Node flags for the worker process (e.g. BENCH_WORKER_EXECARGV="--max-semi-space-size=32"). */
export function workerExecArgv(): string[] {
  return (process.env.BENCH_WORKER_EXECARGV ?? '').split(/\s+/).filter(Boolean);
}

/** The parent's side of `worker-process.ts`: a BridgeWorker in its own Node process. */
export class WorkerHandle {
  private constructor(
    readonly name: string,
    private readonly child: TsChild,
  ) {}

  /** Forks the worker on `configFile` and resolves once it is connected and subscribed. */
  static async start(name: string, configFile: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<WorkerHandle> {
    const launch = workerLaunch();
    const child = TsChild.spawn(`worker ${name}`, launch.script, [configFile], {
      env: { ...launch.env, ...env },
      flags: launch.flags,
      // --expose-gc only makes global.gc() callable (for the live-heap figure after a run).
      execArgv: ['--expose-gc', ...workerExecArgv()],
    });
    try {
      await child.waitFor('ready', timeoutMs);
    } catch (error) {
      await child.kill();
      throw error;
    }
    return new WorkerHandle(name, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the measured window: zeroes the produce counters and the in-flight samples. */
  async reset(): Promise<void> {
    await this.child.request({ type: 'reset' }, 'reset-done');
  }

  async stats(): Promise<WorkerStats> {
    const { type: _type, ...rest } = await this.child.request({ type: 'stats' }, 'stats');
    return rest as unknown as WorkerStats;
  }

  /**
   * The worker's own view of its memory (process.memoryUsage(), bytes). With `gc`, heapUsed is
   * taken after a full collection (the live heap); rss is always the figure from before it.
   */
  async memory(gc = false): Promise<WorkerMemory> {
    const { type: _type, ...rest } = await this.child.request({ type: 'memory', gc }, 'memory');
    return rest as unknown as WorkerMemory;
  }

  async profileStart(): Promise<void> {
    await this.child.request({ type: 'profile-start' }, 'profile-started');
  }

  async profileStop(file: string): Promise<string> {
    const m = await this.child.request({ type: 'profile-stop', file }, 'profile-stopped', 60_000);
    return m.file as string;
  }

  /** Graceful stop (drain, disconnect, exit); SIGKILL if it takes longer than drain + 10 s. */
  async stop(drainMs = 3_000): Promise<void> {
    if (!this.child.running) return;
    try {
      await this.child.request({ type: 'stop', drainMs }, 'stopped', drainMs + 10_000);
    } catch {
      await this.child.kill();
      return;
    }
    await this.child.waitExit(5_000);
  }

  async kill(): Promise<void> {
    await this.child.kill();
  }
}
