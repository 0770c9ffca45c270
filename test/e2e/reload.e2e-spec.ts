import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, testMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';
import { spawnBridge } from './support/bridge.process';

describe('hot reload of rules', () => {
  it('changes routing without loss or duplicates, and refuses a bad file while traffic continues', async () => {
    const kafka = sharedKafka();
    const mosquitto = await testMqttBroker();
    const dir = mkdtempSync(join(tmpdir(), 'bridge-reload-'));
    const id = uniqueId();
    for (const t of ['before', 'after']) await kafka.createTopic(`${id}.${t}`, 1);
    const file = join(dir, 'bridge.yaml');
    const config = (topic: string) => `mqtt: { url: "${mosquitto.url}", clientId: ${id}, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}] }
http: { enabled: false }
rules:
  - name: r
    filters: ["${id}/{device}"]
    destinations: [{ type: kafka, topic: ${id}.${topic}, key: "{device}" }]
`;
    const replace = (text: string) => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    replace(config('before'));
    const bridge = spawnBridge(['run', file]);
    const { child } = bridge;
    const publisher = await mqttClient(mosquitto.url);
    try {
      await waitFor(() => bridge.output().includes('bridging'), 30_000, 'the worker to start');
      let seq = 0;
      const stream = async (count: number) => {
        const sends: Promise<unknown>[] = [];
        for (let i = 0; i < count; i++, seq++) sends.push(publisher.publishAsync(`${id}/d${seq % 5}`, String(seq), { qos: 1 }));
        await Promise.all(sends);
      };
      await stream(500);
      replace(config('after'));
      // Keep publishing while the reload happens.
      const during = stream(1_000);
      await waitFor(() => bridge.output().includes('configuration reloaded'), 20_000, 'the reload');
      await during;
      await stream(500);
      const total = seq;
      await waitFor(
        async () => (await recordCount(kafka.brokers, `${id}.before`)) + (await recordCount(kafka.brokers, `${id}.after`)) >= total,
        30_000,
        'every message',
      );
      await new Promise((r) => setTimeout(r, 500));
      const before = await kafka.consume(`${id}.before`, { count: await recordCount(kafka.brokers, `${id}.before`) });
      const after = await kafka.consume(`${id}.after`, { count: await recordCount(kafka.brokers, `${id}.after`) });
      const values = [...before, ...after].map((r) => Number(r.value!.toString()));
      expect(values).toHaveLength(total);
      expect(new Set(values).size).toBe(total);
      expect(before.length).toBeGreaterThanOrEqual(500);
      expect(after.length).toBeGreaterThanOrEqual(500);

      // An invalid file is refused with its problems; the running rules stay.
      replace(config('after').replace('filters: [', 'filterz: ['));
      await waitFor(() => bridge.output().includes('reload refused: invalid configuration'), 20_000, 'the refusal');
      expect(bridge.output()).toMatch(/unknown field/);
      await stream(100);
      await waitFor(async () => (await recordCount(kafka.brokers, `${id}.after`)) === after.length + 100, 20_000, 'traffic after the refusal');

      // SIGHUP reloads too.
      writeFileSync(file, config('before'));
      child.kill('SIGHUP');
      const reloadedBy = (why: string) =>
        bridge
          .output()
          .split('\n')
          .some((l) => l.includes('"configuration reloaded"') && l.includes(`"why":"${why}"`));
      await waitFor(() => reloadedBy('SIGHUP'), 20_000, 'the SIGHUP reload');
    } finally {
      child.kill('SIGTERM');
      await bridge.exited;
      await publisher.endAsync();
      await mosquitto.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
