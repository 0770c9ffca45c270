/** The shapes of what the benchmark measures (also the JSON written under bench/results/). */
import type { GcPauses } from '../../test/harness/worker/worker-handle';

/** `ceiling`: the at-most-once reference bridge of bench/lib/ceiling-bridge-process.ts. */
export type RunKind = 'publisher-alone' | 'limit-A' | 'limit-B' | 'bridge' | 'ceiling';

/** One throughput measurement. */
export interface RateResult {
  readonly kind: RunKind;
  readonly name: string;
  /** With BENCH_ROUNDS > 1: which round of the bridge cases and the ceiling (1-based). */
  readonly round?: number;
  readonly qos: 0 | 1;
  readonly payloadBytes: number;
  /** Messages sent. */
  readonly messages: number;
  /** Messages counted at the end (MQTT subscriber or Kafka watermarks). */
  readonly arrived: number;
  /** From the first publish (or send) to the last message/record present. */
  readonly seconds: number;
  /** arrived / seconds. */
  readonly rate: number;
  /** rate × payload bytes, in MB/s (10^6 bytes, payload only). */
  readonly mbPerSecond: number;
  /** The publisher's own rate in this run (first publish to last PUBACK / socket write). */
  readonly publisherRate?: number;
  /** CPU per process over the run, % of one core (bench, worker, subscriber, mosquitto, kafka). */
  readonly cpuPercent?: Record<string, number>;
  /**
   * CPU time per message of the process doing the measured work (publisher alone and limit B: the
   * benchmark process; limit A: the subscriber; bridge: the worker), in microseconds.
   */
  readonly cpuMicrosPerMessage?: number;
  /** Worker VmRSS during the run (bridge cases only). */
  readonly rssMaxMb?: number;
  /** rate / min(limit A, limit B) at the same payload size (bridge cases only). */
  readonly ratio?: number;
  /** The ratio this case is expected to reach (targets are reported, never asserted). */
  readonly ratioTarget?: number;
  /** What the worker did during the run (bridge cases only; several workers: summed, see shared-run.ts). */
  readonly worker?: WorkerRunInfo;
  /** The scaling case: workers on the shared subscription (`cpuPercent.worker` is their sum). */
  readonly workers?: number;
  /** The scaling case, per worker: messages it delivered (how the broker split the stream) and its CPU, % of one core. */
  readonly perWorker?: Array<{ readonly delivered: number; readonly cpuPercent?: number; readonly rssMaxMb?: number }>;
  /** Records per produce request of a bare producer (limit B: fixed; ceiling: average). */
  readonly batchRecords?: number;
  /** Average sendBatch round trip of the ceiling's producer (the worker's is in `worker`). */
  readonly msPerRequest?: number;
  /** False when not every message arrived (QoS 0 loss, stall or timeout). */
  readonly complete: boolean;
  readonly note?: string;
}

export interface WorkerRunInfo {
  /** VmRSS right after start-up, before any traffic (ts-node and its TypeScript compiler included). */
  readonly idleRssMb?: number;
  readonly heapUsedMb?: number;
  /**
   * process.memoryUsage() of the worker at the end of the run (before it stops), MB; heapUsed
   * after a full GC (live objects), rss from before it.
   */
  readonly endMemoryMb?: { readonly rss: number; readonly heapTotal: number; readonly heapUsed: number; readonly external: number };
  /** Messages held by the worker (received, not yet confirmed by Kafka), sampled every 5 ms. */
  readonly inFlightMax: number;
  readonly inFlightAvg: number;
  readonly produceRequests: number;
  readonly recordsPerRequest: number;
  readonly maxRecordsPerRequest: number;
  /** Average round trip of a produce request (sendBatch call to its resolution). */
  readonly msPerRequest: number;
  /** Produce requests that failed, by kafkajs error type (the bridge retries or splits them). */
  readonly produceFailures: Record<string, number>;
  readonly deadLettered: number;
  /** Messages the worker counted as delivered (compare with the records in Kafka: duplicates). */
  readonly delivered: number;
  /** Event-loop delay in the worker (5 ms resolution): p99 and max. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Main-thread GC pauses during the run. */
  readonly gc?: GcPauses;
}

export interface LatencyResult {
  readonly payloadBytes: number;
  readonly qos: 0 | 1;
  readonly offeredRate: number;
  readonly achievedPublishRate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly received: number;
  /** Samples used for the percentiles (after the warm-up). */
  readonly samples: number;
  readonly warmupMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly rss?: { readonly maxMb: number; readonly avgMb: number; readonly samples: number };
  readonly cpuPercent?: Record<string, number>;
  readonly worker?: WorkerRunInfo;
  /** Messages pushed through the fresh worker at full speed before the measurement (JIT, connections). */
  readonly warmupMessages: number;
  /** CPU profile of the worker over the measured window (BENCH_CPU_PROF). */
  readonly profile?: string;
  /** Latency by publish time, per 500 ms: shows a backlog building up or draining. */
  readonly timeline: Array<{ readonly fromMs: number; readonly samples: number; readonly p50Ms: number; readonly p99Ms: number }>;
}

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly kafkaVersion: string;
  readonly mosquittoVersion: string;
  readonly kafkaBrokers: string;
  readonly mqttUrl: string;
  /** RSS of an idle `node` and of an idle `node -r ts-node/... -r tsconfig-paths/...` (MB). */
  readonly idleNodeRssMb?: number;
  readonly idleTsNodeRssMb?: number;
}

export interface Targets {
  readonly qos1RatioMin: number;
  readonly p99MaxMs: number;
  readonly rssMaxMb: number;
  /** Issue 19: worker CPU re-encrypt minus passthrough, µs per 256 B message, at most. */
  readonly reencryptExtraCpuMaxUs: number;
  /** Issue 19: re-encrypt throughput / passthrough throughput in the same run, at least. */
  readonly reencryptRateRatioMin: number;
  /** Issue 19: passthrough worker CPU µs per 256 B message, at most (and at most the ceiling's). */
  readonly passthroughCpuMaxUs: number;
}

export const TARGETS: Targets = {
  qos1RatioMin: 0.7,
  p99MaxMs: 20,
  rssMaxMb: 200,
  reencryptExtraCpuMaxUs: 8,
  reencryptRateRatioMin: 0.8,
  passthroughCpuMaxUs: 20,
};

/** One target of a comparison, reported beside the figure (never asserted). */
export interface TargetCheck {
  readonly label: string;
  readonly met: boolean;
}

/** A median over rounds with the range. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Two runs of the same benchmark run side by side, a case against its reference, paired round
 * by round (BENCH_ROUNDS); each figure is the median over the rounds with its range.
 */
export interface Comparison {
  readonly label: string;
  /** Names of the runs compared (RateResult.name). */
  readonly run: string;
  readonly reference: string;
  /** Rounds in which both were measured. */
  readonly rounds: number;
  /** run.rate / reference.rate. */
  readonly rateRatio: Spread;
  /** µs of CPU per message of the process doing the work (worker, or the ceiling's process). */
  readonly cpuUs?: Spread;
  readonly referenceCpuUs?: Spread;
  /** cpuUs - referenceCpuUs, per round. */
  readonly cpuDeltaUs?: Spread;
  /** (cpuUs - referenceCpuUs) / referenceCpuUs, per round. */
  readonly cpuChange?: Spread;
  /** Checked on the medians. */
  readonly targets: TargetCheck[];
}

export interface BenchReport {
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: Record<string, unknown>;
  readonly targets: Targets;
  readonly runs: RateResult[];
  readonly latency?: LatencyResult;
  /** Re-encrypt against passthrough, header modes, passthrough against the ceiling (bench/lib/comparisons.ts). */
  readonly comparisons?: Comparison[];
  /** os.loadavg() (1, 5, 15 min) at the start and at the end: other jobs on the machine. */
  readonly loadAverage?: { readonly start: number[]; readonly end: number[] };
  readonly profiles?: string[];
  readonly errors: string[];
}
