import { Comparison, RateResult, TargetCheck, TARGETS } from './results';

/**
 * The pairs issue 19 asks about, each measured in the same run so that the machine's load hits
 * both alike: re-encryption against passthrough (its targets), the header modes (whether
 * `minimal` should be the default), and passthrough against the at-most-once ceiling.
 */
interface Pair {
  readonly label: string;
  readonly run: (r: RateResult) => boolean;
  readonly reference: (r: RateResult) => boolean;
  readonly targets?: (c: Omit<Comparison, 'targets'>) => TargetCheck[];
}

const bridgeCase = (name: string) => (r: RateResult) => r.kind === 'bridge' && r.name === name;
const ceiling256 = (r: RateResult) => r.kind === 'ceiling' && r.payloadBytes === 256 && r.qos === 1;

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
    label: 'passthrough vs the at-most-once ceiling, QoS 1 256 B',
    run: bridgeCase('qos1-256b'),
    reference: ceiling256,
    targets: (c) =>
      c.cpuUs === undefined || c.referenceCpuUs === undefined
        ? []
        : [
            { label: `worker CPU <= ${TARGETS.passthroughCpuMaxUs} µs/msg`, met: c.cpuUs <= TARGETS.passthroughCpuMaxUs },
            { label: "worker CPU <= the ceiling's", met: c.cpuUs <= c.referenceCpuUs },
          ],
  },
];

/** The comparisons whose both runs were measured (a run limited by BENCH_CASES may have none). */
export function compareRuns(runs: readonly RateResult[]): Comparison[] {
  const out: Comparison[] = [];
  for (const pair of PAIRS) {
    const run = runs.find(pair.run);
    const reference = runs.find(pair.reference);
    if (!run || !reference || !(reference.rate > 0)) continue;
    const cpuUs = run.cpuMicrosPerMessage;
    const referenceCpuUs = reference.cpuMicrosPerMessage;
    const both = cpuUs !== undefined && referenceCpuUs !== undefined;
    const base = {
      label: pair.label,
      run: run.name,
      reference: reference.name,
      rateRatio: run.rate / reference.rate,
      cpuUs,
      referenceCpuUs,
      cpuDeltaUs: both ? cpuUs - referenceCpuUs : undefined,
      cpuChange: both && referenceCpuUs > 0 ? (cpuUs - referenceCpuUs) / referenceCpuUs : undefined,
    };
    out.push({ ...base, targets: pair.targets?.(base) ?? [] });
  }
  return out;
}
