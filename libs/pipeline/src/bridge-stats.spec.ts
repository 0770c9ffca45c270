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
