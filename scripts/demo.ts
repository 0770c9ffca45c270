/**
 * npm run demo: what the bridge is for, in a few seconds. Starts Mosquitto (or an embedded Aedes
 * broker when Mosquitto is not installed) and a single-node Kafka, writes fresh keys into a
 * temporary directory, runs a bridge worker on config/bridge.demo.yaml, and has simulated
 * devices seal their readings. It prints what a plain MQTT subscriber sees on the broker
 * (ciphertext) and what arrives in Kafka: the readings opened and processed, once as plain JSON
 * and once sealed again for consumers. Exits 1 when anything expected is missing.
 * DEMO_MQTT=aedes forces the embedded broker.
 */
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { connectAsync } from 'mqtt';
import { readEnvironment } from '@app/config';
import { createPublisherCrypto, PublisherCrypto, PublisherKey } from '@app/crypto';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { LoadedConfig, loadBridgeConfig } from '@app/bridge-config';
import { BridgeWorker } from '@app/worker';
import { ConsumedMessage } from '../test/harness/kafka-client';
import { KafkaBroker } from '../test/harness/kafka.broker';
import { ciphertextExcerpt } from './demo/ciphertext.excerpt';
import { DemoChecks } from './demo/demo.checks';
import { createDemoKeys, DemoKeys } from './demo/demo-keys.fixture';
import { DemoMqttBroker, startDemoMqttBroker } from './demo/demo-mqtt.broker';
import { PlainSubscriber } from './demo/plain.subscriber';
import { pollUntil } from './demo/poll-until';

const CONFIG_FILE = join(__dirname, '../config/bridge.demo.yaml');
const PLAIN_TOPIC = 'demo.telemetry';
const SEALED_TOPIC = 'demo.telemetry.sealed';
const DEAD_LETTER_TOPIC = 'demo.dead-letter';
/** Long enough for a slow first Kafka consumer group on a busy machine; normally a second or two. */
const WAIT_MS = 20_000;

interface Reading {
  readonly topic: string;
  readonly body: { readonly t: number; readonly rh: number; readonly fw: string };
  /** Why the rules' filter step drops it; absent for readings that reach Kafka. */
  readonly dropped?: string;
}

const READINGS: readonly Reading[] = [
  { topic: 'sensors/lyon/dev-1/env', body: { t: 21.5, rh: 40, fw: '2.3.1' } },
  { topic: 'sensors/lyon/dev-2/env', body: { t: -99, rh: 0, fw: '2.3.1' }, dropped: 'probe unplugged' },
  { topic: 'sensors/oslo/dev-9/env', body: { t: -3.5, rh: 81, fw: '2.2.0' } },
];
const KEPT = READINGS.filter((r) => r.dropped === undefined);

async function main(): Promise<number> {
  const env = readEnvironment();
  const checks = new DemoChecks();
  step('starting MQTT broker');
  const mqtt = await startDemoMqttBroker(env.DEMO_MQTT);
  console.log(`  ${mqtt.url} (MQTT ${mqtt.protocol === 5 ? '5' : '3.1.1'})`);
  step('starting Kafka (first run downloads its jars with Maven; later runs use the cache)');
  const kafka = await KafkaBroker.start();
  console.log(`  ${kafka.brokers.join(',')}`);
  const keys = await createDemoKeys();
  let worker: BridgeWorker | undefined;
  let onlooker: PlainSubscriber | undefined;
  try {
    const loaded = await loadBridgeConfig(CONFIG_FILE, {
      ...env,
      MQTT_URL: mqtt.url,
      MQTT_PROTOCOL: String(mqtt.protocol),
      KAFKA_BROKERS: kafka.brokers.join(','),
      DEMO_KEYS_FILE: keys.file,
    });
    for (const topic of [PLAIN_TOPIC, SEALED_TOPIC, DEAD_LETTER_TOPIC]) await kafka.createTopic(topic, 1);
    step('starting the bridge worker on config/bridge.demo.yaml');
    console.log(`  keys "${keys.devices.name}" and "${keys.consumers.name}", fresh for this run: ${keys.file}`);
    worker = new BridgeWorker(loaded, new MqttClientFactory(), new KafkaClientFactory());
    await worker.start();
    for (const line of describeRules(loaded)) console.log(`  ${line}`);
    onlooker = await PlainSubscriber.subscribe(mqtt.url, mqtt.protocol, 'sensors/#');

    step(`devices seal their readings with key "${keys.devices.name}" and publish them (QoS 1)`);
    const crypto = await createPublisherCrypto();
    await publishReadings(mqtt, crypto, keys.devices);

    step('what a plain MQTT subscriber to sensors/# gets from the broker');
    const copies = await onlooker.waitFor(READINGS.length, WAIT_MS);
    for (const copy of copies) console.log(`  ${copy.topic}  ${ciphertextExcerpt(copy.payload)}`);
    checks.expect(copies.length === READINGS.length, `the plain subscriber got ${copies.length} of ${READINGS.length} messages`);

    const [plain, sealed] = await Promise.all([PLAIN_TOPIC, SEALED_TOPIC].map((topic) => consume(kafka, topic, checks)));
    step(`Kafka ${PLAIN_TOPIC}: opened, processed, written as JSON`);
    const plainDocs = new Map<string, unknown>();
    for (const record of plain ?? []) {
      console.log(`  <- key=${String(record.key)}  ${String(record.value)}`);
      plainDocs.set(String(record.key), parse(record.value, checks, `${PLAIN_TOPIC} record ${String(record.key)}`));
    }
    step(`Kafka ${SEALED_TOPIC}: opened, processed, sealed again with key "${keys.consumers.name}"`);
    const sealedDocs = new Map<string, unknown>();
    for (const record of sealed ?? []) {
      console.log(`  <- key=${String(record.key)}  ${ciphertextExcerpt(record.value ?? Buffer.alloc(0))}`);
      const opened = openAsConsumer(crypto, keys.consumers, record, checks);
      if (opened === undefined) continue;
      console.log(`     a consumer holding key "${keys.consumers.name}" opens it: ${opened.toString()}`);
      sealedDocs.set(String(record.key), parse(opened, checks, `${SEALED_TOPIC} record ${String(record.key)}`));
    }
    // A topic that fell short is already a miss: the harness gives none of its records then.
    if (plain && sealed) checkDocuments(plainDocs, sealedDocs, checks);

    step('dropped by the filter step, acknowledged, never written');
    await reportFilters(worker, loaded, checks);
  } finally {
    step('stopping');
    await onlooker?.close();
    await worker?.stop(5_000);
    await kafka.stop();
    await mqtt.stop();
    keys.remove();
  }
  if (checks.failures.length > 0) {
    console.error(`\ndemo FAILED:\n${checks.failures.map((f) => `  - ${f}`).join('\n')}`);
    return 1;
  }
  console.log(
    `\ndemo ok: ${READINGS.length} sealed readings in, ${KEPT.length} plain and ${KEPT.length} sealed records out, ${READINGS.length - KEPT.length} filtered.`,
  );
  return 0;
}

/** One line per rule, from the loaded configuration: what it does between MQTT and Kafka. */
function describeRules(loaded: LoadedConfig): string[] {
  const width = Math.max(...loaded.config.rules.map((r) => r.name.length));
  return loaded.config.rules.map((rule) => {
    const { mode, sourceKey, destinationKey } = rule.transform;
    const opens = sourceKey ? `open (${sourceKey})` : mode;
    const steps =
      loaded.processes
        .get(rule.name)
        ?.steps.map((s) => s.kind)
        .join(', ') ?? 'no steps';
    const seals = destinationKey ? ` -> seal (${destinationKey})` : '';
    const to = rule.destinations.map((d) => ('topic' in d ? `${d.type} ${String(d.topic)}` : d.type)).join(', ');
    return `${rule.name.padEnd(width)}  ${opens} -> ${steps}${seals} -> ${to}`;
  });
}

async function publishReadings(mqtt: DemoMqttBroker, crypto: PublisherCrypto, key: PublisherKey): Promise<void> {
  const device = await connectAsync(mqtt.url, { protocolVersion: mqtt.protocol, clientId: `demo-devices-${process.pid}` });
  try {
    for (const reading of READINGS) {
      const plaintext = Buffer.from(JSON.stringify(reading.body));
      const envelope = crypto.sealSymmetric(plaintext, key.secret, key.name, key.version, reading.topic);
      await device.publishAsync(reading.topic, Buffer.from(envelope), { qos: 1 });
      console.log(`  -> ${reading.topic}  ${plaintext.toString()}${reading.dropped ? `  (${reading.dropped})` : ''}`);
    }
  } finally {
    await device.endAsync();
  }
}

/** The records the demo expects on `topic`; a shortfall is a miss, not an exception, so the other topic still prints. */
async function consume(kafka: KafkaBroker, topic: string, checks: DemoChecks): Promise<ConsumedMessage[] | undefined> {
  try {
    return await kafka.consume(topic, { count: KEPT.length, timeoutMs: WAIT_MS });
  } catch (error) {
    checks.miss(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

function openAsConsumer(crypto: PublisherCrypto, key: PublisherKey, record: ConsumedMessage, checks: DemoChecks): Buffer | undefined {
  try {
    return Buffer.from(crypto.open(record.value ?? Buffer.alloc(0), [key], record.topic, { requireTopicBinding: true }).plaintext);
  } catch (error) {
    checks.miss(`${record.topic} record ${String(record.key)} does not open with key "${key.name}": ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

function parse(bytes: Buffer | null, checks: DemoChecks, what: string): unknown {
  try {
    return JSON.parse(String(bytes));
  } catch {
    checks.miss(`${what} is not JSON`);
    return undefined;
  }
}

/**
 * Both topics hold the kept readings and nothing else, as the rule's steps make them; the two
 * rules process the same received message, so their documents are equal, receive time included.
 */
function checkDocuments(plain: ReadonlyMap<string, unknown>, sealed: ReadonlyMap<string, unknown>, checks: DemoChecks): void {
  for (const reading of KEPT) {
    const [, site, device] = reading.topic.split('/');
    const { t, rh } = reading.body;
    const expected = { celsius: t, humidity: rh, fahrenheit: (t * 9.0) / 5.0 + 32.0, site, device };
    const doc = plain.get(device);
    if (!checks.expect(doc !== undefined, `no record for ${device} in ${PLAIN_TOPIC}`)) continue;
    const { receivedAt, ...rest } = doc as Record<string, unknown>;
    checks.expect(isDeepStrictEqual(rest, expected), `${PLAIN_TOPIC} ${device}: expected ${JSON.stringify(expected)} besides receivedAt`);
    checks.expect(typeof receivedAt === 'string' && !Number.isNaN(Date.parse(receivedAt)), `${PLAIN_TOPIC} ${device}: receivedAt is not a time`);
    checks.expect(isDeepStrictEqual(sealed.get(device), doc), `${SEALED_TOPIC} ${device} does not open to the same document as ${PLAIN_TOPIC}`);
  }
  const unexpected = [...plain.keys(), ...sealed.keys()].filter((device) => !KEPT.some((r) => r.topic.split('/')[2] === device));
  checks.expect(unexpected.length === 0, `records that should have been filtered: ${unexpected.join(', ')}`);
}

/** The worker's own counters and its bridge_messages_filtered_total metric, as an operator would read them. */
async function reportFilters(worker: BridgeWorker, loaded: LoadedConfig, checks: DemoChecks): Promise<void> {
  const rules = loaded.config.rules.map((r) => r.name);
  const expected = { received: READINGS.length, delivered: KEPT.length, filtered: READINGS.length - KEPT.length, deadLettered: 0 };
  const settled = () => rules.every((rule) => isDeepStrictEqual(pick(worker.stats.snapshot()[rule]), expected));
  await pollUntil(settled, WAIT_MS);
  const metric = await worker.stats.registry.getSingleMetricAsString('bridge_messages_filtered_total');
  for (const line of metric.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) console.log(`  ${line}`);
  for (const rule of rules) {
    const counters = pick(worker.stats.snapshot()[rule]);
    console.log(
      `  ${rule}: ${Object.entries(counters)
        .map(([name, n]) => `${name} ${n}`)
        .join(', ')}`,
    );
    checks.expect(isDeepStrictEqual(counters, expected), `rule ${rule}: expected ${JSON.stringify(expected)}`);
  }
}

function pick(counters: { received: number; delivered: number; filtered: number; deadLettered: number } | undefined): Record<string, number | undefined> {
  return { received: counters?.received, delivered: counters?.delivered, filtered: counters?.filtered, deadLettered: counters?.deadLettered };
}

function step(text: string): void {
  console.log(`\n== ${text}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
