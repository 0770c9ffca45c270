import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, testMqttBroker, uniqueId, waitFor } from './support/bridge.fixture';
import { ROOT, runBridge, spawnBridge } from './support/bridge.process';

describe('bridge command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('validate exits 1 and lists file, line and path of every problem', () => {
    const bad = file(
      'bad.yaml',
      `mqtt:
  url: mqtt://127.0.0.1:1883
  protocolVersion: "5"
kafka:
  brokers: [127.0.0.1:9092]
  extra: true
rules:
  - name: r
    filters: ["a/#/b"]
    destinations: [{ type: kafka, topic: t }]
`,
    );
    const run = runBridge(['validate', bad]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${bad}:3:20 mqtt.protocolVersion:`);
    expect(run.stderr).toContain(`${bad}:6:3 kafka.extra: unknown field`);
    expect(run.stderr).toContain(`${bad}:9:15 rules[0].filters[0]:`);
  });

  it('validate exits 0 on the example configuration', () => {
    const run = runBridge(['validate', join(ROOT, 'config/bridge.example.yaml')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/ok \(2 rule\(s\), 3 subscription\(s\), 1 Kafka -> MQTT rule\(s\)\)/);
  });

  it('keys manages a key file: create, rotate, revoke, list, public; never prints or clobbers secrets', () => {
    const keys = join(dir, 'keys.json');
    const bridge = (...args: string[]) => runBridge(['keys', keys, ...args]);
    expect(bridge('create', 'devices', 'symmetric').status).toBe(0);
    expect(bridge('create', 'units', 'sealed').status).toBe(0);
    expect(bridge('create', 'devices', 'symmetric').stderr).toMatch(/already exists/);
    expect(bridge('rotate', 'devices').stdout).toMatch(/primary is now v2/);
    expect(bridge('revoke', 'devices', '1').status).toBe(0);
    const list = bridge('list');
    expect(list.stdout).toMatch(/^devices\tsymmetric\tmin-decrypt v1\tv1:revoked v2\*:active$/m);
    expect(list.stdout).toMatch(/^units\tsealed/m);
    const secrets = (JSON.parse(readFileSync(keys, 'utf8')) as { keys: Array<{ versions: Array<{ key: string }> }> }).keys.flatMap((k) =>
      k.versions.map((v) => v.key),
    );
    for (const secret of secrets) expect(list.stdout).not.toContain(secret);
    expect(bridge('public', 'units').stdout).toMatch(/^units v1 [A-Za-z0-9+/]{43}=$/m);
    expect(bridge('rotate', 'nobody')).toMatchObject({ status: 1, stderr: expect.stringMatching(/no key named "nobody"/) });
    writeFileSync(keys, '{ not json');
    expect(bridge('create', 'other', 'symmetric').status).toBe(1);
    expect(readFileSync(keys, 'utf8')).toBe('{ not json');
  });

  it('run bridges messages as a process and exits cleanly on SIGTERM', async () => {
    const mosquitto = await testMqttBroker();
    const kafka = sharedKafka();
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 1);
    const config = file(
      'run.yaml',
      `mqtt: { url: "\${MQTT_URL}", clientId: ${id} }
kafka: { brokers: ["\${KAFKA_BROKERS}"] }
http: { host: 127.0.0.1, port: 0 }
rules:
  - name: r
    filters: ["${id}/{device}"]
    destinations: [{ type: kafka, topic: ${id}.out, key: "{device}" }]
`,
    );
    const { child, exited, started } = spawnBridge(['run', config], { ...process.env, MQTT_URL: mosquitto.url, KAFKA_BROKERS: kafka.brokers.join(',') });
    const publisher = await mqttClient(mosquitto.url);
    try {
      await waitFor(started, 30_000, 'the worker to start');
      await publisher.publishAsync(`${id}/dev-1`, 'hello', { qos: 1 });
      const [record] = await kafka.consume(`${id}.out`, { count: 1 });
      expect(record.key?.toString()).toBe('dev-1');
      expect(record.value?.toString()).toBe('hello');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await publisher.endAsync();
      await mosquitto.stop();
    }
  });
});
