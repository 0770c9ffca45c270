import { Metric, Registry } from 'prom-client';

/** One exported sample, as prom-client's registry formats them. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

interface Cell {
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram with one label, `rule`, counted in plain arrays and exported at scrape
 * time. prom-client's `observe()` builds, validates and hashes its labels on every call, and this
 * one is called for every record delivered. Registered in a prom-client registry as a custom
 * metric: the registry asks any object with `name` and `get()` for its values.
 */
export class RuleLatencyHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private cells = new Map<string, Cell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registers: readonly Registry[] = [],
  ) {
    // prom-client's registry takes any metric with a name and get(); its types list only its own classes.
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(rule: string, seconds: number): void {
    let cell = this.cells.get(rule);
    if (!cell) {
      cell = { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.cells.set(rule, cell);
    }
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]) bucket++;
    cell.counts[bucket]++;
    cell.sum += seconds;
    cell.count++;
  }

  /** The values as prom-client's own histograms export them: cumulative buckets, then sum and count. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = [];
    for (const [rule, cell] of this.cells) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += cell.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { le: i < this.bounds.length ? this.bounds[i] : '+Inf', rule }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { rule }, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels: { rule }, value: cell.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.cells = new Map();
  }
}
