import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { loadBridgeConfig, LoadedConfig } from '@app/bridge-config';
import { loadRuleTests } from './rule-test.cases';
import { RuleTestRunner } from './rule-test.runner';

const DEVICES = '7OGmKC3x1kt4tDWq5vIDJ0wt2yVO+8B0X8bpbk1P3+g=';

// Two rules on one topic (listed, and by pattern), one opening envelopes bound to the Kafka
// topic, one processing and sealing for devices; the MQTT rule is there because a worker needs one.
const CONFIG = `
mqtt: { url: "mqtt://127.0.0.1:1", clientId: edge-1 }
kafka: { brokers: ["127.0.0.1:1"] }
keys: { file: keys.json }
rules:
  - name: up
    filters: ["up/#"]
    destinations: [{ type: kafka, topic: up }]
fromKafka:
  - name: raw
    kafka: { groupId: g1, topics: [cmd.a, raw.only] }
    mqtt: { topic: "dev/{header.tenant}/{key}/{partition}/{kafkaTopic}", qos: 2, retain: true }
  - name: sealed
    kafka: { groupId: g2, topicPattern: "^cmd\\\\..+$" }
    mqtt: { topic: "dev/{payload.device}/cmd" }
    transform: { mode: encrypt, destinationKey: devices }
    process:
      steps:
        - filter: payload.op != "noop"
        - map: { op: payload.op, device: payload.device, by: 'headers["user"]', ref: key, client: clientId }
  - name: opened
    kafka: { groupId: g3, topics: [sealed.cmd] }
    mqtt: { topic: "plain/{key}" }
    transform: { mode: decrypt, sourceKey: devices }
`;

const KEYS = {
  keys: [
    {
      name: 'devices',
      type: 'symmetric',
      primaryVersion: 1,
      minDecryptionVersion: 1,
      versions: [{ version: 1, state: 'active', createdAt: '2026-01-01T00:00:00.000Z', key: DEVICES }],
    },
  ],
};

describe('RuleTestRunner with Kafka records (fromKafka rules)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rule-test-kafka-'));
  let loaded: LoadedConfig;
  const cases = (text: string) => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.cases.yaml`);
    writeFileSync(file, `keys:\n  devices: { secret: ${DEVICES} }\ncases:\n${text}`);
    return loadRuleTests(file, {}, ['devices']);
  };
  const run = async (text: string) => {
    const tests = cases(text);
    const runner = await RuleTestRunner.create(loaded, tests);
    return Promise.all(tests.cases.map((c) => runner.run(c)));
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(KEYS));
    writeFileSync(join(dir, 'bridge.yaml'), CONFIG);
    loaded = await loadBridgeConfig(join(dir, 'bridge.yaml'), {}, 'worker');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the rules reading the topic, listed or by pattern, in order, with the record as KafkaRuleRunner sees it', async () => {
    const [both, patternOnly, none] = await run(`
  - name: both
    kafka: { topic: cmd.a, key: lamp-1, partition: 3, headers: { tenant: acme, user: ops, mqtt.user.trace: [t1, t2], mqtt.content-type: application/json } }
    json: { device: lamp-1, op: dim }
    expect:
      outputs:
        - rule: raw
          destination: raw/mqtt
          topic: dev/acme/lamp-1/3/cmd.a
          headers: { trace: [t1, t2] }
          sealed: false
          json: { device: lamp-1, op: dim }
        - rule: sealed
          topic: dev/lamp-1/cmd
          sealed: true
          json: { op: dim, device: lamp-1, by: ops, ref: lamp-1, client: edge-1 }
  - name: pattern only
    kafka: { topic: cmd.b }
    json: { device: lamp-2, op: noop }
    expect: { filtered: true }
  - name: none
    kafka: { topic: other }
    text: x
    expect: { outputs: [] }
`);
    expect(both).toEqual({ name: 'both', differences: [] });
    expect(patternOnly.differences).toEqual([]);
    expect(none.differences).toEqual([]);
  });

  it('reports what differs: the MQTT topic and the payload opened with the key bound to it', async () => {
    const [result] = await run(`
  - name: wrong
    kafka: { topic: cmd.b, key: k, headers: { user: 7 } }
    json: { device: lamp-1, op: dim }
    expect:
      outputs:
        - { topic: dev/lamp-2/cmd, json: { op: "off" } }
`);
    expect(result.differences).toEqual(
      expect.arrayContaining([
        'outputs[0] (sealed/mqtt) topic:',
        '  - "dev/lamp-2/cmd"',
        '  + "dev/lamp-1/cmd"',
        'outputs[0] (sealed/mqtt) json:',
        '  +   "by": "7",',
      ]),
    );
  });

  it('seals with sealWith bound to the Kafka topic, which a decrypt rule opens; a record in clear is dead-lettered', async () => {
    const results = await run(`
  - name: opens
    kafka: { topic: sealed.cmd, key: lamp-1 }
    text: "21.5"
    sealWith: devices
    expect: { outputs: [{ topic: plain/lamp-1, sealed: false, text: "21.5" }] }
  - name: in clear
    kafka: { topic: sealed.cmd, key: lamp-1 }
    text: "21.5"
    expect: { deadLetter: { reason: envelope-version } }
`);
    expect(results.map((r) => r.differences)).toEqual([[], []]);
  });

  it('dead-letters what delivery would: a record without the key or header the topic needs', async () => {
    const [result] = await run(`
  - name: no key
    kafka: { topic: raw.only, headers: { tenant: acme } }
    text: x
    expect: { deadLetter: { rule: raw, reason: template } }
`);
    expect(result.differences).toEqual([]);
  });

  it('validates a case: exactly one of topic and kafka, no MQTT-only fields on a record, with file, line and path', () => {
    let error: unknown;
    try {
      cases(`  - name: both
    topic: a/b
    kafka: { topic: cmd.a }
    text: x
    expect: { filtered: true }
  - name: qos on a record
    kafka: { topic: "bad topic", partition: -1 }
    qos: 0
    text: x
    expect: { filtered: true }
`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => [`${p.line} ${p.path}`, p.message]);
    expect(problems).toEqual(
      expect.arrayContaining([
        ['4 cases[0]', 'give exactly one of topic (an MQTT message) and kafka (a Kafka record)'],
        ['11 cases[1].qos', expect.stringContaining('qos is for MQTT messages')],
        ['10 cases[1].kafka.topic', expect.stringContaining('bad topic')],
        ['10 cases[1].kafka.partition', expect.any(String)],
      ]),
    );
  });
});
