/**
 * npm run test:compose: the compose stack as a user runs it, in a real Docker engine. Builds
 * the image, starts Mosquitto, Kafka, two workers and the admin service, sends plain and
 * encrypted telemetry through them to Kafka, creates a key through the admin API, restarts the
 * stack (down, up) and checks the key and the topics survived, then stops one worker and
 * checks the other carries the stream. Prints one PASS/FAIL line per step and exits 1 on a
 * failure; skips (exit 0) where no Docker engine runs. Base images must be pullable or built
 * locally (test/compose/base-images.sh). KEEP=1 leaves the stack and its volumes up.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { connectAsync, MqttClient } from 'mqtt';
import { createPublisherCrypto } from '@app/crypto';
import { ComposeCli } from './compose.cli';

const ROOT = resolve(__dirname, '../..');
const PROJECT = 'bridge-smoke';
const CORE = ['mosquitto', 'kafka', 'bridge-1', 'bridge-2', 'admin'];
/** Host ports the stack publishes, by the compose variable that moves each, with its default. */
const HOST_PORTS = { BRIDGE_MQTT_PORT: 1883, BRIDGE_KAFKA_PORT: 29092, BRIDGE_ADMIN_PORT: 8081 };

const adminToken = randomBytes(32).toString('hex');
const failures: string[] = [];

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    const result = await body();
    const detail = typeof result === 'string' && result ? `: ${result}` : '';
    console.log(`PASS  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)${detail}`);
    return result;
  } catch (error) {
    console.log(`FAIL  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s): ${error instanceof Error ? error.message : String(error)}`);
    failures.push(name);
    throw error;
  }
}

/** The default port, or, when something on this host already has it, a free one. */
async function hostPort(preferred: number): Promise<number> {
  if (!(await portInUse(preferred))) return preferred;
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

const ports: Record<keyof typeof HOST_PORTS, number> = { ...HOST_PORTS };
let kafka: Kafka;

/** Every record of a topic from the beginning, read until `enough` says so. */
async function readTopic(
  topic: string,
  enough: (values: Array<{ key: string; value: string; headers: Record<string, string> }>) => boolean,
  timeoutMs = 60_000,
) {
  // The workers create their topics on first write: subscribing before would fail.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(`topic ${topic} to exist`, timeoutMs, async () => ((await admin.listTopics()).includes(topic) ? true : undefined));
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `smoke-${randomBytes(4).toString('hex')}` });
  const seen: Array<{ key: string; value: string; headers: Record<string, string> }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        seen.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers });
      },
    });
    await waitFor(`records on ${topic} (${seen.length} so far)`, timeoutMs, async () => (enough(seen) ? true : undefined));
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${ports.BRIDGE_ADMIN_PORT}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function publish(client: MqttClient, messages: Array<[topic: string, payload: Buffer | string]>): Promise<void> {
  for (const [topic, payload] of messages) await client.publishAsync(topic, payload, { qos: 1 });
}

async function main(): Promise<number> {
  for (const name of Object.keys(HOST_PORTS) as Array<keyof typeof HOST_PORTS>) ports[name] = await hostPort(HOST_PORTS[name]);
  const secretsDir = join(tmpdir(), `bridge-smoke-secrets-${process.pid}`);
  const env = { ...process.env, BRIDGE_SECRETS_DIR: secretsDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const compose = ComposeCli.find(PROJECT, ROOT, env);
  if ('skip' in compose) {
    console.log(`SKIP  compose smoke test: ${compose.skip}. Needs a running Docker engine and compose (docs/deployment.md).`);
    return 0;
  }
  mkdirSync(secretsDir, { mode: 0o700 });
  console.log(
    `compose smoke test with ${compose.describe}; host ports ${Object.entries(ports)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  kafka = new Kafka({ clientId: 'compose-smoke', brokers: [`localhost:${ports.BRIDGE_KAFKA_PORT}`], logLevel: logLevel.NOTHING });
  // As docs/deployment.md says: a 700 directory, files readable by the containers' uid 1000.
  chmodSync(secretsDir, 0o700);
  writeFileSync(join(secretsDir, 'master-key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o644 });
  writeFileSync(join(secretsDir, 'admin-token'), `${adminToken}\n`, { mode: 0o644 });

  const keySecret = randomBytes(32);
  const crypto = await createPublisherCrypto();
  let device: MqttClient | undefined;
  try {
    await step('build the image', async () => (compose.run('build'), ''));
    await step('up: mosquitto, kafka, bridge-1, bridge-2, admin healthy', async () => {
      compose.run('up', '-d', ...CORE);
      await compose.waitHealthy(CORE, 240_000);
      return '';
    });
    device = await connectAsync(`mqtt://127.0.0.1:${ports.BRIDGE_MQTT_PORT}`, { clientId: `smoke-device-${randomBytes(3).toString('hex')}` });

    await step('plain telemetry reaches Kafka (telemetry.lyon, key and header)', async () => {
      const marks = Array.from({ length: 20 }, (_, i) => `plain-${i}`);
      await publish(
        device!,
        marks.map((m, i) => [`sensors/lyon/dev-${i % 4}/temp`, m]),
      );
      const records = await readTopic('telemetry.lyon', (seen) => marks.every((m) => seen.some((r) => r.value === m)));
      const first = records.find((r) => r.value === 'plain-1')!;
      if (first.key !== 'dev-1' || first.headers.metric !== 'temp')
        throw new Error(`record plain-1 has key ${first.key}, header metric ${first.headers.metric}`);
      return `${marks.length} of ${marks.length} messages, key dev-1, header metric=temp`;
    });

    const keyVersion = await step('create key "devices" through the admin API', async () => {
      const created = (await admin('POST', '/v1/keys/import', { name: 'devices', type: 'symmetric', secret: keySecret.toString('base64') })) as {
        primaryVersion: number;
      };
      return created.primaryVersion;
    });

    const sendSealed = async (marks: string[], timeoutMs = 60_000) => {
      await publish(
        device!,
        marks.map((m, i) => {
          const topic = `secure/lyon/dev-${i % 3}`;
          return [topic, Buffer.from(crypto.sealSymmetric(Buffer.from(m), keySecret, 'devices', keyVersion, topic))];
        }),
      );
      await readTopic('telemetry.secure', (seen) => marks.every((m) => seen.some((r) => r.value === m)), timeoutMs);
      return `${marks.length} of ${marks.length} envelopes opened`;
    };
    await step('encrypted telemetry is opened by the workers (telemetry.secure)', () =>
      // Workers learn of the new key by a control event or their keystore poll: retry until they have.
      // An envelope sent before a worker has the key is dead-lettered (key-unknown): send a new one each try.
      waitFor('the workers to open envelopes sealed with the new key', 90_000, async () => sendSealed([`sealed-${Date.now()}`], 5_000)).then(() =>
        sendSealed(Array.from({ length: 10 }, (_, i) => `sealed-a-${i}`)),
      ),
    );

    await step('down, then up: the stack comes back healthy', async () => {
      await device!.endAsync();
      compose.run('down');
      compose.run('up', '-d', ...CORE);
      await compose.waitHealthy(CORE, 240_000);
      device = await connectAsync(`mqtt://127.0.0.1:${ports.BRIDGE_MQTT_PORT}`, { clientId: `smoke-device-${randomBytes(3).toString('hex')}` });
      return '';
    });

    await step('the key and the topics survived down/up', async () => {
      const { keys } = (await waitFor('the admin API to list keys', 60_000, async () => admin('GET', '/v1/keys'))) as { keys: Array<{ name: string }> };
      if (!keys.some((k) => k.name === 'devices')) throw new Error(`GET /v1/keys after down/up: ${JSON.stringify(keys)}`);
      const admin_ = kafka.admin();
      await admin_.connect();
      const topics = await admin_.listTopics();
      await admin_.disconnect();
      const missing = ['bridge.keys', 'telemetry.lyon', 'telemetry.secure'].filter((t) => !topics.includes(t));
      if (missing.length > 0) throw new Error(`topics missing after down/up: ${missing.join(', ')}`);
      const before = await readTopic('telemetry.lyon', (seen) => seen.some((r) => r.value === 'plain-19'));
      return `key "devices" listed, topics bridge.keys, telemetry.lyon (${before.length} records kept), telemetry.secure present`;
    });

    await step('encrypted telemetry still opens after down/up (key reloaded from bridge.keys)', () =>
      waitFor('envelopes to open after the restart', 90_000, async () =>
        sendSealed(
          Array.from({ length: 10 }, (_, i) => `sealed-b-${i}-${Date.now()}`),
          10_000,
        ),
      ),
    );

    await step('stop bridge-1: it drains and exits 0, bridge-2 carries the stream', async () => {
      const started = Date.now();
      compose.run('stop', 'bridge-1');
      const stopSeconds = (Date.now() - started) / 1000;
      const code = compose.exitCode('bridge-1');
      if (code !== 0) throw new Error(`bridge-1 exited ${code}`);
      const marks = Array.from({ length: 100 }, (_, i) => `after-stop-${i}`);
      await publish(
        device!,
        marks.map((m, i) => [`sensors/oslo/dev-${i % 5}/hum`, m]),
      );
      const records = await readTopic('telemetry.oslo', (seen) => marks.every((m) => seen.some((r) => r.value === m)));
      const health = compose.health('bridge-2');
      if (health !== 'healthy') throw new Error(`bridge-2 is ${health}`);
      return `stopped in ${stopSeconds.toFixed(1)} s with exit 0; ${marks.filter((m) => records.some((r) => r.value === m)).length} of ${marks.length} messages delivered by bridge-2`;
    });
  } catch {
    // The step's FAIL line is printed; what the services said is what explains it.
    try {
      console.log(compose.run('logs', '--no-color', '--tail', '25', 'bridge-1', 'bridge-2', 'admin'));
    } catch (error) {
      console.log(`(no logs: ${(error as Error).message})`);
    }
  } finally {
    await device?.endAsync().catch(() => undefined);
    if (process.env.KEEP === '1') console.log(`KEEP=1: stack left up (project ${PROJECT}); docker compose -p ${PROJECT} down -v removes it`);
    else {
      try {
        compose.run('down', '-v');
      } catch (error) {
        console.log(`cleanup failed: ${(error as Error).message}`);
      }
      rmSync(secretsDir, { recursive: true, force: true });
    }
  }
  console.log(failures.length === 0 ? 'compose smoke test: all steps passed' : `compose smoke test: FAILED (${failures.join('; ')})`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
