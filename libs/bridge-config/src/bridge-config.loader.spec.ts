import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { formatKeyFile, generateKeyEntry, SodiumProvider } from '@app/crypto';
import { loadBridgeConfig } from './bridge-config.loader';

const dir = mkdtempSync(join(tmpdir(), 'bridge-config-spec-'));
let n = 0;
function write(text: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function problems(text: string, env: Record<string, string> = {}): Promise<string[]> {
  const file = write(text);
  try {
    await loadBridgeConfig(file, env, 'admin');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
  }
  throw new Error('expected the configuration to be refused');
}

const valid = `
mqtt:
  url: mqtt://127.0.0.1:1883
kafka:
  brokers: [127.0.0.1:9092]
rules:
  - name: r
    filters: ["s/{site}/#"]
    destinations:
      - { type: kafka, topic: "t.{site}" }
`;

describe('loadBridgeConfig', () => {
  it('loads a valid file and fills defaults', async () => {
    const loaded = await loadBridgeConfig(write(valid), {});
    expect(loaded.config.mqtt.protocolVersion).toBe(5);
    expect(loaded.config.rules[0].qos).toBe(1);
    expect(loaded.config.rules[0].destinations[0]).toMatchObject({ key: '{topic}', delivery: { qos1: { acks: 'all', idempotent: true } } });
    expect(loaded.config.deadLetter.topic).toBe('bridge.dead-letter');
    expect(loaded.rules[0].captures).toEqual(['site']);
    expect(loaded.plan.subscriptions.map((s) => s.filter)).toEqual(['s/+/#']);
  });

  it('accepts the documented example configuration', async () => {
    const loaded = await loadBridgeConfig(join(__dirname, '../../../config/bridge.example.yaml'), {});
    expect(loaded.rules.map((r) => r.name)).toEqual(['telemetry', 'alarms']);
  });

  it('reports a wrong type, an unknown field and a bad filter with line, column and path, all at once', async () => {
    const found = await problems(`
mqtt:
  url: mqtt://127.0.0.1:1883
  keepaliveSeconds: soon
kafka:
  brokers: [127.0.0.1:9092]
  colour: blue
rules:
  - name: r
    filters: ["a/#/b"]
    destinations: [{ type: kafka, topic: t }]
`);
    expect(found).toHaveLength(3);
    expect(found[0]).toBe('4:21 mqtt.keepaliveSeconds: expected number, got string');
    expect(found[1]).toMatch(/^7:3 kafka\.colour: unknown field \(expected one of: brokers, clientId/);
    expect(found[2]).toMatch(/^10:15 rules\[0\]\.filters\[0\]: .*"#".*last level/);
  });

  it('refuses templates naming captures the filters do not define', async () => {
    const found = await problems(valid.replace('t.{site}', 't.{device}'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^10:\d+ rules\[0\]\.destinations\[0\]\.topic: .*\{device\}/);
  });

  it('refuses an unknown destination type and an idempotent producer without acks: all', async () => {
    expect((await problems(valid.replace('type: kafka', 'type: kafak')))[0]).toMatch(/rules\[0\]\.destinations\[0\]\.type: expected one of "kafka"/);
    const idempotent = valid.replace('topic: "t.{site}" }', 'topic: t, delivery: { qos1: { acks: 1, idempotent: true } } }');
    expect((await problems(idempotent))[0]).toMatch(/delivery\.qos1: an idempotent producer needs acks: all/);
  });

  it('interpolates environment variables and names the unset ones', async () => {
    const text = valid.replace('mqtt://127.0.0.1:1883', '${MQTT_URL}').replace('[127.0.0.1:9092]', '["${KAFKA:-127.0.0.1:9093}"]');
    const loaded = await loadBridgeConfig(write(text), { MQTT_URL: 'mqtt://broker:1883' });
    expect(loaded.config.mqtt.url).toBe('mqtt://broker:1883');
    expect(loaded.config.kafka.brokers).toEqual(['127.0.0.1:9093']);
    expect(await problems(text)).toEqual([expect.stringMatching(/^3:8 mqtt\.url: environment variable \$\{MQTT_URL\} is not set/)]);
  });

  it('types unquoted substitutions as YAML would, and keeps quoted ones strings', async () => {
    const text = valid.replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  protocolVersion: ${V}\n  clientId: "${ID}"');
    const loaded = await loadBridgeConfig(write(text), { V: '4', ID: '42' });
    expect(loaded.config.mqtt.protocolVersion).toBe(4);
    expect(loaded.config.mqtt.clientId).toBe('42');
  });

  it('keeps $${ as a literal', async () => {
    const loaded = await loadBridgeConfig(write(valid.replace('name: r', () => 'name: r\n    shareGroup: "g$${x}"')), {});
    expect(loaded.config.rules[0].shareGroup).toBe('g${x}');
  });

  it('refuses duplicate rule names and a persistent session without a client id', async () => {
    const text =
      valid.replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  session: { persistent: true }') + valid.slice(valid.indexOf('  - name: r'));
    const found = await problems(text);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/mqtt\.clientId: a persistent session needs a fixed clientId/),
        expect.stringMatching(/rules\[1\]\.name: duplicate rule name "r"/),
      ]),
    );
  });

  it('refuses overlapping filters on MQTT 3.1.1, where copies cannot be told apart', async () => {
    const text = valid
      .replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  protocolVersion: 4')
      .replace('["s/{site}/#"]', '["s/{site}/#", "s/{site}/y"]');
    expect(await problems(text)).toEqual([expect.stringMatching(/filters: filter "s\/\+\/y" overlaps "s\/\+\/#".*protocolVersion: 5/)]);
    await expect(loadBridgeConfig(write(text.replace('protocolVersion: 4', 'protocolVersion: 5')), {})).resolves.toBeDefined();
  });

  it('refuses impossible transforms and keys that the key file does not hold', async () => {
    const sodium = await new SodiumProvider().ready();
    const keys = join(dir, 'keys.json');
    writeFileSync(keys, formatKeyFile([generateKeyEntry(sodium, 'devices', 'symmetric')]));
    const rule = (transform: string) =>
      valid.replace('rules:', `keys: { file: keys.json }\nrules:`).replace('    filters:', `    transform: ${transform}\n    filters:`);
    expect(await problems(rule('{ mode: decrypt }'))).toEqual([expect.stringMatching(/rules\[0\]\.transform\.sourceKey: mode decrypt needs sourceKey/)]);
    expect(await problems(rule('{ mode: passthrough, destinationKey: devices }'))).toEqual([
      expect.stringMatching(/transform\.destinationKey: mode passthrough does not use destinationKey/),
    ]);
    expect(await problems(rule('{ mode: reencrypt, sourceKey: devices, destinationKey: consumers }'))).toEqual([
      expect.stringMatching(/transform\.destinationKey: key "consumers" is not in .*keys\.json \(known: devices\)/),
    ]);
    const loaded = await loadBridgeConfig(write(rule('{ mode: decrypt, sourceKey: devices }')), {});
    expect(loaded.config.keys?.file).toBe(keys);
    expect(loaded.keys?.map((k) => k.name)).toEqual(['devices']);
    const noKeys = valid.replace('    filters:', '    transform: { mode: decrypt, sourceKey: devices }\n    filters:');
    expect(await problems(noKeys)).toEqual([expect.stringMatching(/sourceKey: names key "devices" but the configuration has no keys section/)]);
  });

  it('reports an unreadable key file at keys.file', async () => {
    const text = valid.replace('rules:', 'keys: { file: nowhere.json }\nrules:');
    expect(await problems(text)).toEqual([expect.stringMatching(/keys\.file: .*cannot read the key file \(ENOENT\)/)]);
  });

  it('accepts MQTT dead letters on MQTT 5 only, and never on a topic the rules subscribe to', async () => {
    const mqttDlq = valid.replace('rules:', 'deadLetter: { type: mqtt, topic: s/x/dead }\nrules:');
    expect(await problems(mqttDlq)).toEqual([expect.stringMatching(/deadLetter\.topic: rule r subscribes to s\/x\/dead/)]);
    const v4 = valid
      .replace('rules:', 'deadLetter: { type: mqtt, topic: dead/letters }\nrules:')
      .replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  protocolVersion: 4');
    expect(await problems(v4)).toEqual([expect.stringMatching(/deadLetter\.type: MQTT dead letters carry their reason in MQTT 5 user properties/)]);
    const ok = await loadBridgeConfig(write(valid.replace('rules:', 'deadLetter: { type: mqtt, topic: dead/letters, qos: 2 }\nrules:')), {});
    expect(ok.config.deadLetter).toEqual({ type: 'mqtt', topic: 'dead/letters', qos: 2 });
    expect((await loadBridgeConfig(write(valid), {})).config.deadLetter).toEqual({ type: 'kafka', topic: 'bridge.dead-letter' });
  });

  it('refuses an MQTT destination on the source broker that would feed a rule its own output', async () => {
    const mqttOut = (topic: string, url = 'mqtt://127.0.0.1:1883') =>
      valid.replace('      - { type: kafka, topic: "t.{site}" }', `      - { type: mqtt, broker: { url: "${url}" }, topic: "${topic}" }`);
    expect(await problems(mqttOut('s/{site}/copy'))).toEqual([
      expect.stringMatching(/destinations\[0\]\.topic: publishes on the source broker to topics that rule r subscribes to/),
    ]);
    expect(await problems(mqttOut('{topic}'))).toHaveLength(1);
    await expect(loadBridgeConfig(write(mqttOut('out/{site}')), {})).resolves.toBeDefined();
    await expect(loadBridgeConfig(write(mqttOut('s/{site}/copy', 'mqtt://cloud:1883')), {})).resolves.toBeDefined();
  });

  it('reports YAML syntax errors with their line, and a missing file', async () => {
    expect((await problems('mqtt:\n  url: [unclosed\n'))[0]).toMatch(/^\d+:\d+ : /);
    await expect(loadBridgeConfig(join(dir, 'missing.yaml'), {})).rejects.toThrow(/missing\.yaml: file not found/);
  });

  it('lists every unusable secret of a wrapped keystore and the admin service, located, without quoting them', async () => {
    const text = `${valid}
keys:
  store: { type: file, path: data/keystore.json }
  masterKey: { file: data/kek }
admin:
  tokens:
    - { id: ops, role: admin, env: ADMIN_TOKEN }
    - { id: ops, role: reader, env: SHORT_TOKEN }
  audit: { file: audit.log }
`;
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'kek-wrong'), 'c2hvcnQ=');
    expect(await problems(text, { SHORT_TOKEN: 'too-short-to-be-a-token' })).toEqual([
      expect.stringMatching(/^\d+:\d+ keys.masterKey.file: cannot read the master key file .*data\/kek \(ENOENT\)$/),
      expect.stringMatching(/^\d+:\d+ keys.masterKey.file: the master key must not be stored beside the keystore/),
      expect.stringMatching(/^\d+:\d+ admin.tokens\[0\].env: environment variable ADMIN_TOKEN is not set$/),
      expect.stringMatching(/^\d+:\d+ admin.tokens\[1\].id: duplicate token id "ops"$/),
      expect.stringMatching(/^\d+:\d+ admin.tokens\[1\].env: the token must be at least 32 printable characters/),
    ]);
    const wrongKey = await problems(text.replace('data/kek', 'secrets/kek-wrong').replace(/admin:[\s\S]*$/, ''));
    expect(wrongKey).toEqual([expect.stringMatching(/keys.masterKey.file: .*must be base64 of exactly 32 bytes/)]);
    expect(wrongKey.join()).not.toContain('c2hvcnQ');
    // A master key in a directory that contains the keystore's is beside it too.
    expect(
      await problems(
        text
          .replace('data/kek', 'secrets/kek-wrong')
          .replace('data/keystore.json', 'secrets/store/keystore.json')
          .replace(/admin:[\s\S]*$/, ''),
      ),
    ).toEqual([expect.stringContaining('must be base64'), expect.stringContaining('must not be stored beside the keystore')]);
  });

  it('needs a master key with a wrapped keystore, and one kind of key source', async () => {
    expect(await problems(`${valid}\nkeys: { store: { type: kafka } }\n`)).toEqual([
      expect.stringContaining('keys.masterKey: a wrapped keystore needs masterKey'),
    ]);
    expect(await problems(`${valid}\nkeys: { file: k.json, store: { type: kafka }, masterKey: { env: K } }\n`)).toEqual(
      expect.arrayContaining([expect.stringContaining('give exactly one of file (plain key file) or store (wrapped keystore)')]),
    );
  });

  it('resolves every TLS file against the configuration file, as every other path, and says so when one is missing', async () => {
    mkdirSync(join(dir, 'certs'), { recursive: true });
    writeFileSync(join(dir, 'certs/ca.pem'), 'pem');
    const tls = `
mqtt:
  url: mqtts://127.0.0.1:8883
  tls: { ca: certs/ca.pem }
kafka:
  brokers: [127.0.0.1:9092]
  tls: { ca: certs/ca.pem }
rules:
  - name: r
    filters: ["s/#"]
    destinations:
      - { type: mqtt, broker: { url: "mqtts://other:8883", tls: { ca: certs/ca.pem } }, topic: "out/x" }
`;
    const loaded = await loadBridgeConfig(write(tls), {});
    const ca = join(dir, 'certs/ca.pem');
    const destination = loaded.config.rules[0].destinations[0];
    expect([loaded.config.mqtt.tls?.ca, loaded.config.kafka.tls?.ca, destination.type === 'mqtt' && destination.broker.tls?.ca]).toEqual([ca, ca, ca]);
    expect(
      await problems(
        tls.replace(
          'kafka:\n  brokers: [127.0.0.1:9092]\n  tls: { ca: certs/ca.pem }',
          'kafka:\n  brokers: [127.0.0.1:9092]\n  tls: { ca: certs/missing.pem }',
        ),
      ),
    ).toEqual([
      `7:14 kafka.tls.ca: cannot read file ${JSON.stringify(join(dir, 'certs/missing.pem'))} ("certs/missing.pem" is relative to the configuration file)`,
    ]);
  });
});
