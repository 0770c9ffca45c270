import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedKafka } from '../harness/shared-kafka';
import { loadBridgeConfig } from '@app/bridge-config';
import { mqttClient, recordCount, startWorker, testMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';
import { configYaml } from './support/config.builder';
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

  it('opens and closes the MQTT connection of a rule that gets or loses one of its own, without a restart', async () => {
    const kafka = sharedKafka();
    const mosquitto = await testMqttBroker();
    const dir = mkdtempSync(join(tmpdir(), 'bridge-reload-isolation-'));
    const id = uniqueId();
    for (const t of ['main', 'side']) await kafka.createTopic(`${id}.${t}`, 1);
    const sections = { mqtt: { url: mosquitto.url, clientId: id }, kafka: { brokers: kafka.brokers }, http: { enabled: false } };
    const main = `
  - name: main
    filters: ["${id}/main/+"]
    destinations: [{ type: kafka, topic: ${id}.main }]
`;
    const side = `
  - name: side
    filters: ["${id}/side/+"]
    isolation: own
    destinations: [{ type: kafka, topic: ${id}.side }]
`;
    const write = (name: string, rules: string) => {
      const file = join(dir, name);
      writeFileSync(file, configYaml(sections, { rules }));
      return file;
    };
    const withSide = write('with-side.yaml', main + side);
    const withoutSide = write('without-side.yaml', main);
    const bridge = await startWorker(configYaml(sections, { rules: main }));
    const publisher = await mqttClient(mosquitto.url);
    const publish = async (level: string, count: number) => {
      for (let i = 0; i < count; i++) await publisher.publishAsync(`${id}/${level}/d`, String(i), { qos: 1 });
    };
    try {
      await bridge.worker.reload(await loadBridgeConfig(withSide, {}));
      await publish('side', 50);
      await publish('main', 50);
      await waitFor(async () => (await recordCount(kafka.brokers, `${id}.side`)) === 50, 20_000, 'the new isolated rule to deliver');
      await waitFor(async () => (await recordCount(kafka.brokers, `${id}.main`)) === 50, 20_000, 'the main rule to deliver');

      await bridge.worker.reload(await loadBridgeConfig(withoutSide, {}));
      await publish('side', 20);
      await publish('main', 20);
      await waitFor(async () => (await recordCount(kafka.brokers, `${id}.main`)) === 70, 20_000, 'the main rule after the second reload');
      // The side rule's connection is gone: nothing more of its topics reaches the worker.
      await new Promise((r) => setTimeout(r, 500));
      expect(await recordCount(kafka.brokers, `${id}.side`)).toBe(50);
      expect(bridge.worker.stats.snapshot().side).toMatchObject({ received: 50, delivered: 50 });
      expect((await bridge.worker.readiness()).mqtt).toBe(true);
    } finally {
      await publisher.endAsync();
      await bridge.dispose();
      await mosquitto.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
