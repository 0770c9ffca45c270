import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectAsync, IClientOptions, MqttClient } from 'mqtt';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { loadBridgeConfig } from '@app/bridge-config';
import { BridgeWorker } from '@app/worker';
import { quietKafka } from '../../harness/kafka.broker';
import { MosquittoBroker, mqttUrlFromEnv } from '../../harness/mosquitto.broker';

/** A short random id that keeps topics, client ids and groups of one test apart from others. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** Writes a YAML config to a temp file and starts a worker on it (in this process). */
export async function startWorker(yaml: string, env: Record<string, string> = {}): Promise<{ worker: BridgeWorker; file: string; dispose(): Promise<void> }> {
  const built = await startWorkerless(yaml, env);
  await built.worker.start();
  return built;
}

/** A worker built from a YAML config but not started (for replays). */
export async function startWorkerless(
  yaml: string,
  env: Record<string, string> = {},
): Promise<{ worker: BridgeWorker; file: string; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-e2e-'));
  const file = join(dir, 'bridge.yaml');
  writeFileSync(file, yaml);
  const worker = new BridgeWorker(await loadBridgeConfig(file, env), new MqttClientFactory(), new KafkaClientFactory());
  return {
    worker,
    file,
    async dispose() {
      await worker.stop(2_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function mqttClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, ...options });
}

/** Records a topic holds, from its offsets: catches duplicates that a count-bounded consume would miss. */
export async function recordCount(brokers: string[], topic: string): Promise<number> {
  const admin = quietKafka(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

export { waitFor } from '@app/core/testing/wait-for';

/** The MQTT broker a test talks to: `MQTT_URL` when the user gave one, else a fresh Mosquitto on a free port. */
export interface TestMqttBroker {
  readonly url: string;
  stop(): Promise<void>;
}

export async function testMqttBroker(): Promise<TestMqttBroker> {
  const external = mqttUrlFromEnv();
  if (external) return { url: external, stop: async () => undefined };
  return MosquittoBroker.start();
}

/**
 * Registers beforeAll/afterAll hooks that give a describe block its MQTT broker and one
 * connected publisher, both closed at the end.
 */
export function useMqtt(): { broker(): TestMqttBroker; publisher(): MqttClient } {
  let broker: TestMqttBroker | undefined;
  let publisher: MqttClient | undefined;
  beforeAll(async () => {
    broker = await testMqttBroker();
    publisher = await mqttClient(broker.url, { clientId: uniqueId('pub') });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.stop();
  });
  return { broker: () => broker!, publisher: () => publisher! };
}
