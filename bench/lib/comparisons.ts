import { percentile, sortedCopy } from './percentiles';
import { Comparison, RateResult, Spread, TargetCheck, TARGETS } from './results';

/**
 * The pairs issue 19 asks about, each measured in the same run so that the machine's load hits
 * both alike: re-encryption against passthrough (its targets), the header modes (whether
 * `minimal` should be the default), passthrough against the at-most-once ceiling, and (opt-in)
 * several workers on one shared subscription against one.
 */
interface Pair {
  /** A function when the label names something of the run (the scaling case's worker count). */
  readonly label: string | ((run: RateResult) => string);
  readonly run: (r: RateResult) => boolean;
  readonly reference: (r: RateResult) => boolean;
  readonly targets?: (m: Medians) => TargetCheck[];
}

/** The medians the targets are checked on. */
interface Medians {
  readonly rateRatio: number;
  readonly cpuUs?: number;
  readonly referenceCpuUs?: number;
  readonly cpuDeltaUs?: number;
}

const bridgeCase = (name: string) => (r: RateResult) => r.kind === 'bridge' && r.name === name;
const ceiling256 = (client: 'kafkajs' | 'librdkafka') => (r: RateResult) =>
  r.kind === 'ceiling' && r.payloadBytes === 256 && r.qos === 1 && r.name.includes(`-> ${client} `);

const PAIRS: readonly Pair[] = [
  {
    label: 're-encrypt vs passthrough, QoS 1 256 B',
    run: bridgeCase('qos1-256b-reencrypt'),
    reference: bridgeCase('qos1-256b'),
    targets: (c) => [
      ...(c.cpuDeltaUs === undefined
        ? []
        : [{ label: `worker CPU +${TARGETS.reencryptExtraCpuMaxUs} µs/msg at most`, met: c.cpuDeltaUs <= TARGETS.reencryptExtraCpuMaxUs }]),
      { label: `throughput >= ${TARGETS.reencryptRateRatioMin} x passthrough`, met: c.rateRatio >= TARGETS.reencryptRateRatioMin },
    ],
  },
  {
    label: "mqttHeaders minimal vs the run's mode, QoS 1 256 B",
    run: bridgeCase('qos1-256b-minimal'),
    reference: bridgeCase('qos1-256b'),
  },
  {
    label: "passthrough on librdkafka vs the run's Kafka client, QoS 1 256 B",
    run: bridgeCase('qos1-256b-librdkafka'),
    reference: bridgeCase('qos1-256b'),
  },
  {
    label: "passthrough with the bridge's produce-request encoding vs kafkajs's own, QoS 1 256 B",
    run: bridgeCase('qos1-256b'),
    reference: bridgeCase('qos1-256b-kafkajs-encoding'),
  },
  {
    label: 'passthrough vs the at-most-once ceiling, QoS 1 256 B',
    run: bridgeCase('qos1-256b'),
    reference: ceiling256('kafkajs'),
    targets: (c) =>
      c.cpuUs === undefined || c.referenceCpuUs === undefined
        ? []
        : [
            { label: `worker CPU <= ${TARGETS.passthroughCpuMaxUs} µs/msg`, met: c.cpuUs <= TARGETS.passthroughCpuMaxUs },
            { label: "worker CPU <= the ceiling's", met: c.cpuUs <= c.referenceCpuUs },
          ],
  },
  {
    // Issue 19 item 2: the same at-most-once bridge with librdkafka's native producer (BENCH_RDKAFKA_MODULE).
    label: 'the ceiling on librdkafka vs on kafkajs, QoS 1 256 B',
    run: ceiling256('librdkafka'),
    reference: ceiling256('kafkajs'),
  },
  {
    // The scaling figure: the rate ratio is the speed-up, the CPU the workers' sum per message.
    label: (run) => `${run.workers} workers vs 1 on one shared subscription, QoS 1 256 B (CPU: the workers' sum)`,
    run: (r) => r.kind === 'bridge' && (r.workers ?? 0) > 1,
    reference: (r) => r.kind === 'bridge' && r.workers === 1,
  },
];

function spread(values: readonly number[]): Spread | undefined {
  if (!values.length) return undefined;
  const sorted = sortedCopy(values);
  return { median: percentile(sorted, 50), min: sorted[0], max: sorted[sorted.length - 1] };
}

/** The comparisons whose both runs were measured (a run limited by BENCH_CASES may have none), paired per round. */
export function compareRuns(runs: readonly RateResult[]): Comparison[] {
  const out: Comparison[] = [];
  for (const pair of PAIRS) {
    const pairs = runs
      .filter(pair.run)
      .map((run) => ({ run, reference: runs.find((r) => pair.reference(r) && r.round === run.round) }))
      .filter((p): p is { run: RateResult; reference: RateResult } => p.reference !== undefined && p.reference.rate > 0);
    if (!pairs.length) continue;
    const cpu = pairs.filter(({ run, reference }) => run.cpuMicrosPerMessage !== undefined && reference.cpuMicrosPerMessage !== undefined);
    const cpuOf = (r: RateResult) => r.cpuMicrosPerMessage ?? 0;
    const rateRatio = spread(pairs.map(({ run, reference }) => run.rate / reference.rate));
    if (!rateRatio) continue;
    const cpuUs = spread(cpu.map((p) => cpuOf(p.run)));
    const referenceCpuUs = spread(cpu.map((p) => cpuOf(p.reference)));
    const cpuDeltaUs = spread(cpu.map((p) => cpuOf(p.run) - cpuOf(p.reference)));
    const cpuChange = spread(cpu.filter((p) => cpuOf(p.reference) > 0).map((p) => (cpuOf(p.run) - cpuOf(p.reference)) / cpuOf(p.reference)));
    const medians: Medians = { rateRatio: rateRatio.median, cpuUs: cpuUs?.median, referenceCpuUs: referenceCpuUs?.median, cpuDeltaUs: cpuDeltaUs?.median };
    out.push({
      label: typeof pair.label === 'string' ? pair.label : pair.label(pairs[0].run),
      run: pairs[0].run.name,
      reference: pairs[0].reference.name,
      rounds: pairs.length,
      rateRatio,
      cpuUs,
      referenceCpuUs,
      cpuDeltaUs,
      cpuChange,
      targets: pair.targets?.(medians) ?? [],
    });
  }
  return out;
}
