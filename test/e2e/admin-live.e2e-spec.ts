import { readFileSync, writeFileSync } from 'node:fs';
import type { Consumer } from 'kafkajs';
import { connect as natsConnect } from 'nats';
import { createPublisherCrypto, PublisherCrypto, SodiumProvider, type Sodium } from '@app/crypto';
import { sharedKafka } from '../harness/shared-kafka';
import { AdminWorkspace, stopProcess } from './support/admin.fixture';
import { uniqueId, useMqtt, waitFor } from './support/bridge.fixture';
import { AdminProcess, BridgeProcess, spawnBridge } from './support/bridge.process';

interface Seen {
  topic: string;
  value: Buffer;
  reason?: string;
  at: number;
}

/** How long a key change may take to change what the worker does (the issue's requirement). */
const PROPAGATION_MS = 2_000;

describe('admin changes reach a running worker while messages flow', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();
  const ws = new AdminWorkspace();
  const id = uniqueId('live');
  const topics = { plain: `${id}.plain`, enc: `${id}.enc`, dlq: `${id}.dlq`, audit: `${id}.audit` };
  let sodium: Sodium;
  let pc: PublisherCrypto;
  let admin: AdminProcess;
  let configFile: string;
  let worker: BridgeProcess;
  let consumer: Consumer;
  const seen: Seen[] = [];
  /** Envelope (base64) -> label of what was published, to name dead letters. */
  const labels = new Map<string, string>();
  const published: string[] = [];
  let publishing = true;
  let loop: Promise<void> | undefined;
  /** What the devices seal with; undefined: a key the bridge does not know. */
  let deviceKey: { version: number; secret: Uint8Array } | undefined;
  let oldKey: { version: number; secret: Uint8Array } | undefined;

  const label = (s: Seen) => (s.topic === topics.dlq ? labels.get(s.value.toString('base64')) : s.value.toString());
  const first = (topic: string, match: (label: string) => boolean, after: number) =>
    seen.find((s) => s.topic === topic && s.at >= after && match(label(s) ?? ''));

  async function effectWithin(what: string, since: number, find: () => Seen | undefined): Promise<number> {
    await waitFor(() => find() !== undefined, 30_000, what);
    const latency = find()!.at - since;
    process.stdout.write(`${what}: ${latency} ms after the API answered\n`);
    return latency;
  }

  function startPublishing(): void {
    const device = mqtt.publisher();
    const unknown = { version: 1, secret: sodium.randombytes_buf(32) };
    loop = (async () => {
      for (let seq = 0; publishing; seq++) {
        const a = `${id}/dev/a`;
        const key = deviceKey ?? unknown;
        const sends: Array<[string, Buffer, string]> = [
          [a, Buffer.from(pc.sealSymmetric(Buffer.from(`a-${seq}-v${key.version}`), key.secret, 'devices', key.version, a)), `a-${seq}-v${key.version}`],
        ];
        if (oldKey) {
          const o = `${id}/dev/old`;
          sends.push([o, Buffer.from(pc.sealSymmetric(Buffer.from(`old-${seq}`), oldKey.secret, 'devices', oldKey.version, o)), `old-${seq}`]);
        }
        sends.push([`${id}/plain/p`, Buffer.from(`p-${seq}`), `p-${seq}`]);
        for (const [topic, payload, name] of sends) {
          labels.set(payload.toString('base64'), name);
          await device.publishAsync(topic, payload, { qos: 1 });
          published.push(name);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
    pc = await createPublisherCrypto();
    for (const t of [topics.plain, topics.enc, topics.dlq, topics.audit]) await kafka.createTopic(t, 1);
    consumer = kafka.kafka().consumer({ groupId: `${id}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.plain, topics.enc, topics.dlq], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        seen.push({ topic, value: message.value ?? Buffer.alloc(0), reason: message.headers?.['bridge.dlq.reason']?.toString(), at: Date.now() });
      },
    });
    const file = (configFile = ws.writeConfig(
      'bridge.yaml',
      `
mqtt: { url: "${mqtt.broker().url}", clientId: "${id}-worker", protocolVersion: 5 }
kafka: { brokers: [${kafka.brokers.map((b) => `"${b}"`).join(', ')}] }
http: { port: 0 }
${ws.sections({ reloadIntervalMs: 60_000 }).replace('audit: { file: data/audit.log }', `audit: { file: data/audit.log, topic: "${topics.audit}" }`)}
control: { url: "nats://127.0.0.1:4222", prefix: "${id}" }
deadLetter: { type: kafka, topic: "${topics.dlq}" }
rules:
  - name: from-devices
    filters: ["${id}/dev/+"]
    transform: { mode: decrypt, sourceKey: devices }
    destinations: [{ type: kafka, topic: "${topics.plain}" }]
  - name: to-consumers
    filters: ["${id}/plain/+"]
    transform: { mode: encrypt, destinationKey: consumers }
    destinations: [{ type: kafka, topic: "${topics.enc}" }]
`,
    ));
    admin = await ws.startAdmin(file);
    worker = spawnBridge(['run', file]);
    await waitFor(() => worker.started() || worker.child.exitCode !== null, 60_000, 'the worker to start');
    if (!worker.started()) throw new Error(`worker did not start:\n${worker.output()}`);
    startPublishing();
  }, 120_000);

  afterAll(async () => {
    publishing = false;
    await loop?.catch(() => undefined);
    await consumer?.disconnect();
    await stopProcess(worker);
    await stopProcess(admin);
    ws.dispose();
  });

  const s1 = () => Buffer.from(secrets.s1).toString('base64');
  const secrets: { s1: Uint8Array; s2: Uint8Array; consumers: string } = { s1: new Uint8Array(), s2: new Uint8Array(), consumers: '' };

  it('import: messages sealed with an imported key decrypt within 2 s (workers poll only every 60 s: the control event did it)', async () => {
    await waitFor(
      () => seen.some((s) => s.topic === topics.dlq && s.reason === 'key-unknown' && label(s)?.startsWith('a-')),
      30_000,
      'a key-unknown dead letter before the import',
    );
    secrets.s1 = sodium.randombytes_buf(32);
    const r = await ws.call(admin, 'POST', '/v1/keys/import', 'admin', { name: 'devices', type: 'symmetric', secret: s1() });
    expect(r.status).toBe(201);
    deviceKey = { version: 1, secret: secrets.s1 };
    oldKey = deviceKey;
    expect(await effectWithin('imported key in use', r.at, () => first(topics.plain, (l) => /^a-\d+-v1$/.test(l), r.at))).toBeLessThanOrEqual(PROPAGATION_MS);
  });

  it('rotate: the new version decrypts within 2 s, the old one keeps working', async () => {
    secrets.s2 = sodium.randombytes_buf(32);
    const r = await ws.call(admin, 'POST', '/v1/keys/devices/rotate', 'admin', { material: { secret: Buffer.from(secrets.s2).toString('base64') } });
    expect([r.status, r.json.primaryVersion]).toEqual([200, 2]);
    deviceKey = { version: 2, secret: secrets.s2 };
    expect(await effectWithin('rotated key in use', r.at, () => first(topics.plain, (l) => /^a-\d+-v2$/.test(l), r.at))).toBeLessThanOrEqual(PROPAGATION_MS);
    const after = Date.now();
    await waitFor(() => first(topics.plain, (l) => l.startsWith('old-'), after) !== undefined, 10_000, 'v1 messages still decrypting');
  });

  it('revoke: messages sealed with the revoked version are dead-lettered as key-revoked within 2 s', async () => {
    const r = await ws.call(admin, 'POST', '/v1/keys/devices/versions/1/revoke', 'admin');
    expect(r.status).toBe(200);
    const revoked = () => seen.find((s) => s.topic === topics.dlq && s.at >= r.at && s.reason === 'key-revoked' && label(s)?.startsWith('old-'));
    expect(await effectWithin('revocation in effect', r.at, revoked)).toBeLessThanOrEqual(PROPAGATION_MS);
  });

  it('create: a generated key starts encrypting within 2 s, and its export opens what the worker sealed', async () => {
    const r = await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'consumers', type: 'sealed', exportable: true });
    expect(r.status).toBe(201);
    expect(await effectWithin('created key in use', r.at, () => first(topics.enc, () => true, r.at))).toBeLessThanOrEqual(PROPAGATION_MS);
    const exported = await ws.call(admin, 'POST', '/v1/keys/consumers/export', 'admin', {});
    expect(exported.status).toBe(200);
    const [v1] = exported.json.versions;
    secrets.consumers = v1.secret;
    const record = first(topics.enc, () => true, r.at)!;
    const opened = pc.open(
      record.value,
      [{ name: 'consumers', version: 1, secret: Buffer.from(v1.secret, 'base64'), publicKey: Buffer.from(v1.publicKey, 'base64') }],
      topics.enc,
    );
    expect(Buffer.from(opened.plaintext).toString()).toMatch(/^p-\d+$/);
  });

  it('loses no message through the changes: each one is delivered or dead-lettered', async () => {
    publishing = false;
    await loop;
    // Encrypted records cannot be told apart by value, so plaintext messages are counted: each
    // is either dead-lettered (before the consumers key existed) or one encrypted record.
    const labelled = () => new Set(seen.map(label));
    const plain = published.filter((name) => name.startsWith('p-'));
    const others = published.filter((name) => !name.startsWith('p-'));
    const plainAccounted = () => plain.filter((name) => labelled().has(name)).length + seen.filter((s) => s.topic === topics.enc).length;
    await waitFor(() => others.every((name) => labelled().has(name)) && plainAccounted() >= plain.length, 30_000, 'every message to arrive');
    expect(others.filter((name) => !labelled().has(name))).toEqual([]);
    expect(plainAccounted()).toBeGreaterThanOrEqual(plain.length);
  });

  it('reload through the admin API: a valid file is applied by the worker, a broken one is refused with its problems', async () => {
    const good = readFileSync(configFile, 'utf8');
    const extended = `${good}  - name: extra
    filters: ["${id}/extra/+"]
    destinations: [{ type: kafka, topic: "${id}.extra" }]
`;
    writeFileSync(configFile, extended);
    const ok = await ws.call(admin, 'POST', '/v1/reload', 'admin');
    expect([ok.status, ok.json]).toEqual([202, { rules: 3 }]);
    await waitFor(
      () =>
        worker
          .output()
          .split('\n')
          .some((l) => l.includes('configuration reloaded') && l.includes('admin API')),
      10_000,
      'the worker to reload on the admin event',
    );
    await mqtt.publisher().publishAsync(`${id}/extra/x`, Buffer.from('extra'), { qos: 1 });
    expect((await kafka.consume(`${id}.extra`, { count: 1 }))[0].value!.toString()).toBe('extra');

    writeFileSync(configFile, extended.replace('name: extra', 'name: [broken'));
    const refused = await ws.call(admin, 'POST', '/v1/reload', 'admin');
    expect(refused.status).toBe(400);
    expect(refused.json.problems[0].message).toContain(configFile);
    writeFileSync(configFile, extended);
  });

  it('acts only on control events the admin service sealed: an anonymous one and a replayed one change nothing', async () => {
    const subject = `${id}.config.reload`;
    const nats = await natsConnect({ servers: '127.0.0.1:4222' });
    try {
      const captured = new Promise<Uint8Array>((resolve) => {
        const sub = nats.subscribe(subject, { max: 1 });
        void (async () => {
          for await (const m of sub) resolve(m.data);
        })();
      });
      await nats.flush();
      const reloads = () =>
        worker
          .output()
          .split('\n')
          .filter((l) => l.includes('configuration reloaded') && l.includes('admin API')).length;
      const before = reloads();
      expect((await ws.call(admin, 'POST', '/v1/reload', 'admin')).status).toBe(202);
      const sealed = await captured;
      await waitFor(() => reloads() === before + 1, 10_000, 'the worker to reload on the sealed event');
      // Someone who can publish on the control broker: an unsigned event, then the sealed one again.
      nats.publish(subject, Buffer.from(JSON.stringify({ pattern: subject, data: { at: new Date().toISOString() } })));
      nats.publish(subject, sealed);
      await nats.flush();
      await waitFor(() => worker.output().includes('control event refused'), 10_000, 'the refusal in the worker log');
      await new Promise((r) => setTimeout(r, 1_500));
      expect(reloads()).toBe(before + 1);
      const refusal = worker
        .output()
        .split('\n')
        .find((l) => l.includes('control event refused'))!;
      expect(JSON.parse(refusal)).toMatchObject({ event: subject, reason: 'not a sealed control event (unsigned?)' });
    } finally {
      await nats.close();
    }
  });

  it('shows no key bytes in any response but an export, nor in logs, the audit log or the keystore file', async () => {
    const forms = (bytes: Uint8Array) => [Buffer.from(bytes).toString('base64'), Buffer.from(bytes).toString('hex')];
    const needles = [...forms(secrets.s1), ...forms(secrets.s2), secrets.consumers, Buffer.from(secrets.consumers, 'base64').toString('hex')];
    const raw = [Buffer.from(secrets.s1), Buffer.from(secrets.s2), Buffer.from(secrets.consumers, 'base64')];
    const texts = [
      ...ws.exchanges.filter((e) => !e.path.endsWith('/export')).map((e) => e.text),
      admin.output(),
      worker.output(),
      readFileSync(ws.auditFile, 'utf8'),
      readFileSync(ws.keystoreFile, 'utf8'),
    ];
    for (const text of texts) for (const needle of needles) expect(text.includes(needle)).toBe(false);
    for (const file of [ws.keystoreFile, ws.auditFile]) for (const bytes of raw) expect(readFileSync(file).indexOf(bytes)).toBe(-1);
    const audit = await kafka.consume(topics.audit, { count: 5 });
    expect(audit.map((m) => JSON.parse(m.value!.toString()).action)).toEqual(expect.arrayContaining(['import', 'rotate-import', 'revoke', 'create', 'export']));
  });
});
