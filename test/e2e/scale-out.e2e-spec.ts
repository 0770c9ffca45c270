import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedKafka } from '../harness/shared-kafka';
import { startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';
import { spawnBridge } from './support/bridge.process';

describe('scaling out over a shared subscription', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();

  it('splits a stream between two workers, and loses nothing when one of them stops mid-stream', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 3);
    const yaml = (worker: string) => `
mqtt: { url: ${mqtt.broker().url}, clientId: ${id}-${worker}, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}] }
rules:
  - name: shared
    filters: ["${id}/{device}"]
    shareGroup: workers
    destinations: [{ type: kafka, topic: ${id}.out, key: "{device}" }]
`;
    const a = await startWorker(yaml('a'));
    const b = await startWorker(yaml('b'));
    let aStopped = false;
    try {
      const total = 2_000;
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        sends.push(mqtt.publisher().publishAsync(`${id}/d${i % 20}`, String(i), { qos: 1 }));
        if (i === total / 2) {
          await Promise.all(sends.splice(0));
          // A graceful stop acknowledges what it took; what it had not taken stays with the broker.
          await a.worker.stop(5_000);
          aStopped = true;
        }
      }
      await Promise.all(sends);
      const records = await kafka.consume(`${id}.out`, { count: total, timeoutMs: 60_000 });
      const seen = new Set(records.map((r) => Number(r.value!.toString())));
      expect(seen.size).toBe(total);
      const byA = a.worker.stats.snapshot().shared?.delivered ?? 0;
      const byB = b.worker.stats.snapshot().shared?.delivered ?? 0;
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
      expect(byA + byB).toBeGreaterThanOrEqual(total);
      await waitFor(() => b.worker.inFlight === 0, 10_000, 'worker b to settle');
    } finally {
      await b.dispose();
      if (!aStopped) await a.dispose();
    }
  });

  it('after a crash (kill -9), what the broker kept for the dead worker arrives when it returns with the same client id', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 3);
    const yaml = (worker: string) => `
mqtt: { url: ${mqtt.broker().url}, clientId: ${id}-${worker}, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}] }
http: { enabled: false }
rules:
  - name: shared
    filters: ["${id}/{device}"]
    shareGroup: workers
    destinations: [{ type: kafka, topic: ${id}.out, key: "{device}" }]
`;
    const file = join(mkdtempSync(join(tmpdir(), 'bridge-scale-')), 'a.yaml');
    writeFileSync(file, yaml('a'));
    const runA = () => spawnBridge(['run', file]);
    let a = runA();
    const b = await startWorker(yaml('b'));
    try {
      await waitFor(a.started, 30_000, 'worker a to start');
      const total = 2_000;
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        sends.push(mqtt.publisher().publishAsync(`${id}/d${i % 20}`, String(i), { qos: 1 }));
        if (i === total / 4) a.child.kill('SIGKILL');
      }
      await Promise.all(sends);
      a = runA();
      await waitFor(a.started, 30_000, 'worker a to come back');
      const records = await kafka.consume(`${id}.out`, { count: total, timeoutMs: 60_000 });
      expect(new Set(records.map((r) => Number(r.value!.toString()))).size).toBe(total);
    } finally {
      a.child.kill('SIGTERM');
      await b.dispose();
    }
  });
});
