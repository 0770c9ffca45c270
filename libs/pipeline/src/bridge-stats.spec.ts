import { BridgeStats } from './bridge-stats';

describe('BridgeStats process metrics', () => {
  it('are added on request only, once, beside the bridge metrics', async () => {
    const stats = new BridgeStats();
    stats.received('r');
    expect(await stats.registry.metrics()).not.toContain('process_cpu_user_seconds_total');
    stats.collectProcessMetrics();
    stats.collectProcessMetrics();
    const text = await stats.registry.metrics();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('bridge_messages_received_total{rule="r"} 1');
    // Another worker's registry in the same process stays free of them.
    expect(await new BridgeStats().registry.metrics()).not.toContain('process_cpu_user_seconds_total');
  });
});

describe('BridgeStats per-message metrics', () => {
  it('reports received, delivered and latency as counted, the same on every scrape', async () => {
    const stats = new BridgeStats();
    for (let i = 0; i < 3; i++) stats.received('r');
    stats.delivered('r', 'r/kafka[0]', performance.now());
    stats.delivered('r', 'r/kafka[0]', performance.now());
    stats.delivered('r', 'r/nats[1]', performance.now() - 20_000);
    for (let scrape = 0; scrape < 2; scrape++) {
      const text = await stats.registry.metrics();
      expect(text).toContain('bridge_messages_received_total{rule="r"} 3');
      expect(text).toContain('bridge_messages_delivered_total{rule="r",destination="r/kafka[0]"} 2');
      expect(text).toContain('bridge_messages_delivered_total{rule="r",destination="r/nats[1]"} 1');
      expect(text).toContain('bridge_delivery_latency_seconds_count{rule="r"} 3');
      expect(text).toContain('bridge_delivery_latency_seconds_bucket{le="10",rule="r"} 2');
      expect(text).toContain('bridge_delivery_latency_seconds_bucket{le="30",rule="r"} 3');
    }
    expect(stats.snapshot().r).toMatchObject({ received: 3, delivered: 3 });
  });
});

describe('BridgeStats metric order', () => {
  it('lists the delivery latency histogram where prom-client registered it before: after the unrouted counter', async () => {
    const text = await new BridgeStats().registry.metrics();
    const order = ['bridge_messages_unrouted_total', 'bridge_delivery_latency_seconds', 'bridge_key_reloads_total'].map((name) =>
      text.indexOf(`# HELP ${name} `),
    );
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
