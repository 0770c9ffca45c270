import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MosquittoBroker } from '../harness/mosquitto.broker';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, uniqueId, waitFor } from './support/bridge.fixture';
import { BridgeProcess, spawnBridge } from './support/bridge.process';

/** A metric's value from the Prometheus text format, or undefined when the series is absent. */
function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operations endpoints of a running worker', () => {
  const kafka = sharedKafka();
  const dir = mkdtempSync(join(tmpdir(), 'bridge-ops-'));
  let mosquitto: MosquittoBroker;
  let bridge: BridgeProcess | undefined;

  beforeAll(async () => {
    // Its own broker: this test stops and restarts it.
    mosquitto = await MosquittoBroker.start();
  });

  afterAll(async () => {
    bridge?.child.kill('SIGKILL');
    if (!kafka.running) await kafka.restart();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves metrics that move with traffic and a readiness that follows the brokers', async () => {
    const id = uniqueId();
    await kafka.createTopic(`${id}.out`, 1);
    const file = join(dir, 'ops.yaml');
    writeFileSync(
      file,
      `mqtt: { url: "${mosquitto.url}", clientId: ${id}, session: { persistent: true }, reconnectPeriodMs: 200 }
kafka: { brokers: [${kafka.brokers.join(',')}], connectionTimeoutMs: 500, producer: { retry: { initialMs: 100, maxMs: 500 } } }
http: { host: 127.0.0.1, port: 0, maxHeldSeconds: 2 }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: r
    filters: ["${id}/{kind}"]
    destinations: [{ type: kafka, topic: "${id}.{kind}" }]
`,
    );
    const worker = spawnBridge(['run', file]);
    bridge = worker;
    const endpoint = /on http:\/\/127\.0\.0\.1:(\d+)/;
    await waitFor(() => endpoint.test(worker.output()), 30_000, 'the HTTP endpoint');
    const base = `http://127.0.0.1:${endpoint.exec(worker.output())![1]}`;
    const get = async (path: string) => {
      const res = await fetch(base + path);
      return { status: res.status, text: await res.text() };
    };

    expect((await get('/health/live')).status).toBe(200);
    await waitFor(async () => (await get('/health/ready')).status === 200, 10_000, 'readiness');

    const publisher = await mqttClient(mosquitto.url);
    try {
      for (let i = 0; i < 3; i++) await publisher.publishAsync(`${id}/out`, `m${i}`, { qos: 1 });
      // "bad kind" renders an invalid Kafka topic name: dead-lettered with reason invalid-topic.
      await publisher.publishAsync(`${id}/bad kind`, 'SECRET-PAYLOAD-0451', { qos: 1 });
      await kafka.consume(`${id}.out`, { count: 3 });
      await waitFor(
        async () => metric((await get('/metrics')).text, 'bridge_messages_dead_lettered_total{rule="r",reason="invalid-topic",destination="r/kafka[0]"}') === 1,
        15_000,
        'the dead-letter counter',
      );
      const text = (await get('/metrics')).text;
      expect(metric(text, 'bridge_messages_received_total{rule="r"}')).toBe(4);
      expect(metric(text, 'bridge_messages_delivered_total{rule="r",destination="r/kafka[0]"}')).toBe(3);
      expect(metric(text, 'bridge_destination_up{rule="r",destination="r/kafka[0]"}')).toBe(1);
      expect(JSON.parse((await get('/health/ready')).text).info.brokers.destinations).toEqual({ 'r/kafka[0]': true });
      expect(metric(text, 'bridge_delivery_latency_seconds_count{rule="r"}')).toBe(3);
      expect(metric(text, 'bridge_in_flight_messages')).toBe(0);
      expect(metric(text, 'bridge_oldest_unacknowledged_seconds')).toBe(0);
      expect(metric(text, 'bridge_broker_connected{broker="mqtt"}')).toBe(1);
      expect(metric(text, 'bridge_broker_connected{broker="kafka"}')).toBe(1);

      // Structured JSON logs: the dead letter is logged with rule, topic and reason, never the payload.
      const logs = worker
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logs.find((l) => l.msg === 'dead-lettering')).toMatchObject({ rule: 'r', topic: `${id}/bad kind`, reason: 'invalid-topic', level: 40 });
      expect(worker.output()).not.toContain('SECRET-PAYLOAD-0451');

      await mosquitto.stop();
      await waitFor(async () => (await get('/health/ready')).status === 503, 10_000, 'readiness to drop with MQTT');
      expect(JSON.parse((await get('/health/ready')).text).error.brokers).toMatchObject({ mqtt: false });
      await mosquitto.restart();
      await waitFor(async () => (await get('/health/ready')).status === 200, 15_000, 'readiness to return with MQTT');

      await kafka.stop();
      await waitFor(async () => (await get('/health/ready')).status === 503, 15_000, 'readiness to drop with Kafka');
      expect(JSON.parse((await get('/health/ready')).text).error.brokers).toMatchObject({ kafka: false });
      expect((await get('/health/live')).status).toBe(200);
      // A message that cannot be written is held, and says so once it is older than maxHeldSeconds.
      await publisher.publishAsync(`${id}/out`, 'held', { qos: 1 });
      await waitFor(async () => (metric((await get('/metrics')).text, 'bridge_oldest_unacknowledged_seconds') ?? 0) > 2, 15_000, 'the held message to age');
      expect(JSON.parse((await get('/health/ready')).text).error.brokers).toMatchObject({ held: { maxSeconds: 2, ok: false } });
      await kafka.restart();
      await waitFor(async () => (await get('/health/ready')).status === 200, 30_000, 'readiness to return with Kafka');
      expect(metric((await get('/metrics')).text, 'bridge_oldest_unacknowledged_seconds')).toBe(0);
    } finally {
      await publisher.endAsync(true);
      worker.child.kill('SIGTERM');
    }
  });

  it('serves its endpoints while the broker cannot be reached, and says why in readiness and metrics', async () => {
    const id = uniqueId();
    const file = join(dir, 'unreachable.yaml');
    writeFileSync(
      file,
      `mqtt: { url: "${mosquitto.url}", clientId: ${id}, reconnectPeriodMs: 200, connectTimeoutMs: 1000 }
kafka: { brokers: [${kafka.brokers.join(',')}] }
http: { host: 127.0.0.1, port: 0 }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: r
    filters: ["${id}/+"]
    destinations: [{ type: kafka, topic: "${id}.out" }]
`,
    );
    await mosquitto.stop();
    const worker = spawnBridge(['run', file]);
    bridge = worker;
    try {
      const endpoint = /on http:\/\/127\.0\.0\.1:(\d+)/;
      await waitFor(() => endpoint.test(worker.output()), 30_000, 'the HTTP endpoint while connecting');
      const base = `http://127.0.0.1:${endpoint.exec(worker.output())![1]}`;
      const get = async (path: string) => {
        const res = await fetch(base + path);
        return { status: res.status, text: await res.text() };
      };
      expect((await get('/health/live')).status).toBe(200);
      await waitFor(async () => (metric((await get('/metrics')).text, 'bridge_mqtt_connect_failures_total') ?? 0) >= 3, 15_000, 'three failed attempts');
      const ready = await get('/health/ready');
      expect(ready.status).toBe(503);
      const problem = JSON.parse(ready.text).error.brokers.mqttProblem;
      expect(problem.failedAttempts).toBeGreaterThanOrEqual(3);
      expect(problem.reason).toContain('ECONNREFUSED');
      expect(worker.output()).toMatch(/connection to mqtt:\/\/127\.0\.0\.1:\d+ as \S+ failed \(attempt 3\): .*ECONNREFUSED/);

      await mosquitto.restart();
      await waitFor(async () => (await get('/health/ready')).status === 200, 20_000, 'readiness once the broker is there');
      expect(JSON.parse((await get('/health/ready')).text).info.brokers.mqttProblem).toBeUndefined();
    } finally {
      worker.child.kill('SIGTERM');
    }
  });
});
