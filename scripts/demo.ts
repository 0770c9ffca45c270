/**
 * npm run demo: starts Mosquitto (or an embedded Aedes broker when Mosquitto is not
 * installed) and a single-node Kafka, runs a bridge worker on config/bridge.demo.yaml,
 * publishes sample telemetry, prints what arrives in Kafka, and stops everything.
 * DEMO_MQTT=aedes forces the embedded broker.
 */
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { readEnvironment } from '@app/config';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { BridgeWorker, loadBridgeConfig } from '@app/pipeline';
import { freePort } from '../test/harness/free-port';
import { KafkaBroker } from '../test/harness/kafka.broker';
import { MosquittoBroker } from '../test/harness/mosquitto.broker';
import { which } from '../test/harness/proc';

interface MqttBroker {
  url: string;
  protocol: 4 | 5;
  stop(): Promise<void>;
}

async function startMqtt(force?: string): Promise<MqttBroker> {
  if (force !== 'aedes' && which('mosquitto', ['/usr/sbin', '/usr/local/sbin'])) {
    const broker = await MosquittoBroker.start();
    return { url: broker.url, protocol: 5, stop: () => broker.stop() };
  }
  // Aedes speaks MQTT 3.1.1 only.
  const { createBroker } = await import('aedes');
  const aedes = createBroker();
  const port = await freePort();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    protocol: 4,
    stop: () => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))),
  };
}

const SAMPLES = [
  ['sensors/lyon/dev-1/temperature', { value: 21.5, unit: 'C' }],
  ['sensors/lyon/dev-1/humidity', { value: 40, unit: '%' }],
  ['sensors/lyon/dev-2/temperature', { value: 19.0, unit: 'C' }],
  ['sensors/oslo/dev-9/temperature', { value: -3.5, unit: 'C' }],
  ['alarms/oslo/dev-9', { alarm: 'door-open' }],
] as const;

async function main(): Promise<void> {
  const env = readEnvironment();
  step('starting MQTT broker');
  const mqtt = await startMqtt(env.DEMO_MQTT);
  console.log(`  ${mqtt.url} (MQTT ${mqtt.protocol === 5 ? '5' : '3.1.1'})`);
  step('starting Kafka (first run downloads its jars with Maven; later runs use the cache)');
  const kafka = await KafkaBroker.start();
  console.log(`  ${kafka.brokers.join(',')}`);
  let worker: BridgeWorker | undefined;
  try {
    const loaded = await loadBridgeConfig(join(__dirname, '../config/bridge.demo.yaml'), {
      ...env,
      MQTT_URL: mqtt.url,
      MQTT_PROTOCOL: String(mqtt.protocol),
      KAFKA_BROKERS: kafka.brokers.join(','),
    });
    for (const topic of ['demo.telemetry.lyon', 'demo.telemetry.oslo', 'demo.alarms']) await kafka.createTopic(topic, 3);
    step('starting the bridge worker on config/bridge.demo.yaml');
    worker = new BridgeWorker(loaded, new MqttClientFactory(), new KafkaClientFactory());
    await worker.start();

    step(`publishing ${SAMPLES.length} messages (QoS 1)`);
    const device = await connectAsync(mqtt.url, { protocolVersion: mqtt.protocol });
    for (const [topic, body] of SAMPLES) {
      await device.publishAsync(topic, JSON.stringify(body), { qos: 1 });
      console.log(`  -> ${topic}  ${JSON.stringify(body)}`);
    }
    await device.endAsync();

    step('what arrived in Kafka');
    const expected: Record<string, number> = { 'demo.telemetry.lyon': 3, 'demo.telemetry.oslo': 1, 'demo.alarms': 1 };
    for (const [topic, count] of Object.entries(expected)) {
      for (const m of await kafka.consume(topic, { count, timeoutMs: 30_000 })) {
        const metric = m.headers.metric ? ` metric=${String(m.headers.metric)}` : '';
        console.log(`  <- ${topic} [p${m.partition}] key=${m.key?.toString()}${metric} mqtt.topic=${String(m.headers['mqtt.topic'])}  ${m.value?.toString()}`);
      }
    }
    console.log('\ncounters per rule:', JSON.stringify(worker.stats.snapshot()));
  } finally {
    step('stopping');
    await worker?.stop(5_000);
    await kafka.stop();
    await mqtt.stop();
  }
  console.log('done.');
}

function step(text: string): void {
  console.log(`\n== ${text}`);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
