import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { loadBridgeConfig } from './bridge-config.loader';

const dir = mkdtempSync(join(tmpdir(), 'bridge-config-spec-'));
let n = 0;
function write(text: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

function problems(text: string, env: Record<string, string> = {}): string[] {
  const file = write(text);
  try {
    loadBridgeConfig(file, env);
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
  it('loads a valid file and fills defaults', () => {
    const loaded = loadBridgeConfig(write(valid), {});
    expect(loaded.config.mqtt.protocolVersion).toBe(5);
    expect(loaded.config.rules[0].qos).toBe(1);
    expect(loaded.config.rules[0].destinations[0]).toMatchObject({ key: '{topic}', delivery: { qos1: { acks: 'all', idempotent: true } } });
    expect(loaded.config.deadLetter.topic).toBe('bridge.dead-letter');
    expect(loaded.rules[0].captures).toEqual(['site']);
    expect(loaded.plan.subscriptions.map((s) => s.filter)).toEqual(['s/+/#']);
  });

  it('accepts the documented example configuration', () => {
    const loaded = loadBridgeConfig(join(__dirname, '../../../config/bridge.example.yaml'), {});
    expect(loaded.rules.map((r) => r.name)).toEqual(['telemetry', 'alarms']);
  });

  it('reports a wrong type, an unknown field and a bad filter with line, column and path, all at once', () => {
    const found = problems(`
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

  it('refuses templates naming captures the filters do not define', () => {
    const found = problems(valid.replace('t.{site}', 't.{device}'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^10:\d+ rules\[0\]\.destinations\[0\]\.topic: .*\{device\}/);
  });

  it('refuses an unknown destination type and an idempotent producer without acks: all', () => {
    expect(problems(valid.replace('type: kafka', 'type: kafak'))[0]).toMatch(/rules\[0\]\.destinations\[0\]\.type: expected one of "kafka"/);
    const idempotent = valid.replace('topic: "t.{site}" }', 'topic: t, delivery: { qos1: { acks: 1, idempotent: true } } }');
    expect(problems(idempotent)[0]).toMatch(/delivery\.qos1: an idempotent producer needs acks: all/);
  });

  it('interpolates environment variables and names the unset ones', () => {
    const text = valid.replace('mqtt://127.0.0.1:1883', '${MQTT_URL}').replace('[127.0.0.1:9092]', '["${KAFKA:-127.0.0.1:9093}"]');
    const loaded = loadBridgeConfig(write(text), { MQTT_URL: 'mqtt://broker:1883' });
    expect(loaded.config.mqtt.url).toBe('mqtt://broker:1883');
    expect(loaded.config.kafka.brokers).toEqual(['127.0.0.1:9093']);
    expect(problems(text)).toEqual([expect.stringMatching(/^3:8 mqtt\.url: environment variable \$\{MQTT_URL\} is not set/)]);
  });

  it('types unquoted substitutions as YAML would, and keeps quoted ones strings', () => {
    const text = valid.replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  protocolVersion: ${V}\n  clientId: "${ID}"');
    const loaded = loadBridgeConfig(write(text), { V: '4', ID: '42' });
    expect(loaded.config.mqtt.protocolVersion).toBe(4);
    expect(loaded.config.mqtt.clientId).toBe('42');
  });

  it('keeps $${ as a literal', () => {
    const loaded = loadBridgeConfig(write(valid.replace('name: r', () => 'name: r\n    shareGroup: "g$${x}"')), {});
    expect(loaded.config.rules[0].shareGroup).toBe('g${x}');
  });

  it('refuses duplicate rule names and a persistent session without a client id', () => {
    const text = valid.replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  session: { persistent: true }') + valid.slice(valid.indexOf('  - name: r'));
    const found = problems(text);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/mqtt\.clientId: a persistent session needs a fixed clientId/),
        expect.stringMatching(/rules\[1\]\.name: duplicate rule name "r"/),
      ]),
    );
  });

  it('refuses overlapping filters on MQTT 3.1.1, where copies cannot be told apart', () => {
    const text = valid.replace('url: mqtt://127.0.0.1:1883', 'url: mqtt://127.0.0.1:1883\n  protocolVersion: 4').replace('["s/{site}/#"]', '["s/{site}/#", "s/{site}/y"]');
    expect(problems(text)).toEqual([expect.stringMatching(/filters: filter "s\/\+\/y" overlaps "s\/\+\/#".*protocolVersion: 5/)]);
    expect(() => loadBridgeConfig(write(text.replace('protocolVersion: 4', 'protocolVersion: 5')), {})).not.toThrow();
  });

  it('reports YAML syntax errors with their line, and a missing file', () => {
    expect(problems('mqtt:\n  url: [unclosed\n')[0]).toMatch(/^\d+:\d+ : /);
    expect(() => loadBridgeConfig(join(dir, 'missing.yaml'), {})).toThrow(/missing\.yaml: file not found/);
  });
});
