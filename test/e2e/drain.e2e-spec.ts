import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, testMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';
import { spawnBridge } from './support/bridge.process';

describe('graceful drain', () => {
  it('SIGTERM during a QoS 1 stream: exits 0, and after a restart every message has arrived', async () => {
    const kafka = sharedKafka();
    const mosquitto = await testMqttBroker();
    const dir = mkdtempSync(join(tmpdir(), 'bridge-drain-'));
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 3);
    const file = join(dir, 'drain.yaml');
    writeFileSync(
      file,
      `mqtt: { url: "${mosquitto.url}", clientId: ${id}, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}] }
http: { enabled: false }
rules:
  - name: r
    filters: ["${id}/{device}"]
    destinations: [{ type: kafka, topic: ${id}.out, key: "{device}" }]
`,
    );
    const start = () => spawnBridge(['run', file]);
    const publisher = await mqttClient(mosquitto.url);
    let worker = start();
    try {
      await waitFor(worker.started, 30_000, 'the worker to start');
      const total = 3_000;
      const sends: Promise<unknown>[] = [];
      let exitCode: Promise<number | null> | undefined;
      for (let i = 0; i < total; i++) {
        sends.push(publisher.publishAsync(`${id}/d${i % 10}`, String(i), { qos: 1 }));
        if (i === 1_000) {
          worker.child.kill('SIGTERM');
          exitCode = worker.exited;
        }
        if (i % 200 === 0) await Promise.all(sends.splice(0));
      }
      await Promise.all(sends);
      expect(await exitCode).toBe(0);
      worker = start();
      await waitFor(worker.started, 30_000, 'the worker to restart');
      const records = await kafka.consume(`${id}.out`, { count: total, timeoutMs: 60_000 });
      const seen = new Set(records.map((r) => Number(r.value!.toString())));
      const lost = Array.from({ length: total }, (_, i) => i).filter((n) => !seen.has(n));
      expect(lost).toEqual([]);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await publisher.endAsync();
      await mosquitto.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
