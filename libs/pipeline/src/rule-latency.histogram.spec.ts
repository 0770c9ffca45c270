import { describe, expect, it } from '@jest/globals';
import { Histogram, Registry } from 'prom-client';
import { RuleLatencyHistogram } from './rule-latency.histogram';

const BOUNDS = [0.001, 0.01, 0.1, 1];

describe('RuleLatencyHistogram', () => {
  it('exports exactly what a prom-client histogram with the same observations exports', async () => {
    const theirs = new Registry();
    const reference = new Histogram({ name: 'lat_seconds', help: 'h', labelNames: ['rule'], buckets: BOUNDS, registers: [theirs] });
    const ours = new Registry();
    const histogram = new RuleLatencyHistogram('lat_seconds', 'h', BOUNDS, [ours]);
    // On a bound, between bounds, above the last one, and two rules.
    for (const [rule, seconds] of [
      ['a', 0.001],
      ['a', 0.0005],
      ['a', 0.05],
      ['b', 3],
      ['a', 1],
      ['b', 0.01],
      ['a', 0],
    ] as const) {
      reference.observe({ rule }, seconds);
      histogram.observe(rule, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getSingleMetricAsString('lat_seconds')).toContain('lat_seconds_bucket{le="+Inf",rule="b"} 2');
  });

  it('starts again from nothing when the registry resets its metrics', async () => {
    const registry = new Registry();
    const histogram = new RuleLatencyHistogram('lat_seconds', 'h', BOUNDS, [registry]);
    histogram.observe('a', 0.5);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('rule="a"');
  });
});
