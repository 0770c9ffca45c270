import { createPublisherCrypto, SodiumProvider } from '@app/crypto';
import { sharedKafka } from '../harness/shared-kafka';
import { AdminWorkspace, stopProcess } from './support/admin.fixture';
import { uniqueId, useMqtt, waitFor } from './support/bridge.fixture';
import { AdminProcess, BridgeProcess, spawnBridge } from './support/bridge.process';

/**
 * The fleet layout: keys on a Kafka compacted topic, two admin replicas and a worker, no
 * control-plane broker. The worker sees changes through the topic itself.
 */
describe('admin replicas and a worker sharing a Kafka keystore', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();
  const ws = new AdminWorkspace();
  const id = uniqueId('fleet');
  let file: string;
  const admins: AdminProcess[] = [];
  let worker: BridgeProcess;

  beforeAll(async () => {
    await kafka.createTopic(`${id}.plain`, 1);
    file = ws.writeConfig(
      'bridge.yaml',
      `
mqtt: { url: "${mqtt.broker().url}", clientId: "${id}-worker" }
kafka: { brokers: [${kafka.brokers.map((b) => `"${b}"`).join(', ')}] }
http: { enabled: false }
${ws.sections({ reloadIntervalMs: 60_000 }).replace('{ type: file, path: data/keystore.json }', `{ type: kafka, topic: "${id}.keys" }`)}
deadLetter: { type: kafka, topic: "${id}.dlq" }
rules:
  - name: from-devices
    filters: ["${id}/dev/+"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: "${id}.plain" }]
`,
    );
    admins.push(await ws.startAdmin(file), await ws.startAdmin(file));
    worker = spawnBridge(['run', file]);
    await waitFor(() => worker.started() || worker.child.exitCode !== null, 60_000, 'the worker to start');
    if (!worker.started()) throw new Error(`worker did not start:\n${worker.output()}`);
  }, 150_000);

  afterAll(async () => {
    await stopProcess(worker);
    for (const admin of admins) await stopProcess(admin);
    ws.dispose();
  });

  it('a key imported through one replica is seen by the other replica and used by the worker within 2 s', async () => {
    const sodium = await new SodiumProvider().ready();
    const pc = await createPublisherCrypto();
    const secret = sodium.randombytes_buf(32);
    const imported = await ws.call(admins[0], 'POST', '/v1/keys/import', 'admin', {
      name: 'devices',
      type: 'symmetric',
      secret: Buffer.from(secret).toString('base64'),
    });
    expect(imported.status).toBe(201);
    const seenByOther = await ws.call(admins[1], 'GET', '/v1/keys/devices', 'reader');
    expect([seenByOther.status, seenByOther.json.revision]).toEqual([200, 1]);

    const topic = `${id}/dev/a`;
    let delivered = -1;
    for (let seq = 0; seq < 200 && delivered < 0; seq++) {
      await mqtt.publisher().publishAsync(topic, Buffer.from(pc.sealSymmetric(Buffer.from(`m-${seq}`), secret, 'devices', 1, topic)), { qos: 1 });
      const got = await kafka.consume(`${id}.plain`, { count: 1, timeoutMs: 100 }).catch(() => []);
      if (got.length > 0) delivered = Date.now();
    }
    expect(delivered).toBeGreaterThan(0);
    process.stdout.write(`worker decrypting ${delivered - imported.at} ms after the import answered (key change seen through the topic)\n`);
    expect(delivered - imported.at).toBeLessThanOrEqual(2_000);
  });

  it('two replicas changing the same key at once: one wins, the other gets 409, and both agree', async () => {
    const [a, b] = await Promise.all([
      ws.call(admins[0], 'POST', '/v1/keys/devices/rotate', 'admin', {}),
      ws.call(admins[1], 'POST', '/v1/keys/devices/rotate', 'admin', {}),
    ]);
    const statuses = [a.status, b.status].sort();
    // Both may succeed one after the other (no overlap), or one loses the race.
    expect([
      [200, 200],
      [200, 409],
    ]).toContainEqual(statuses);
    const views = await Promise.all(admins.map((admin) => ws.call(admin, 'GET', '/v1/keys/devices', 'reader')));
    expect(views[0].json).toEqual(views[1].json);
    expect(views[0].json.primaryVersion).toBe(statuses[1] === 409 ? 2 : 3);
  });

  it('a restarted replica rebuilds every key from the topic', async () => {
    await stopProcess(admins[1]);
    admins[1] = await ws.startAdmin(file);
    const before = await ws.call(admins[0], 'GET', '/v1/keys', 'reader');
    const after = await ws.call(admins[1], 'GET', '/v1/keys', 'reader');
    expect(after.json).toEqual(before.json);
    expect(after.json.keys.map((k: { name: string }) => k.name)).toEqual(['devices']);
  }, 90_000);
});
