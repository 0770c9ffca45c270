import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { loadBridgeConfig } from './bridge-config.loader';

// Values that pass a type check but that the MQTT broker or Kafka would refuse at run time,
// where the failure is a silent reconnect loop or a bare "Connection closed".

const dir = mkdtempSync(join(tmpdir(), 'refused-values-spec-'));
let n = 0;

async function problems(text: string | Buffer, env: Record<string, string> = {}): Promise<string[]> {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  try {
    await loadBridgeConfig(file, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
  }
  throw new Error('expected the configuration to be refused');
}

const KAFKA_CHARS = "a Kafka topic name has only ASCII letters, digits, '.', '_' and '-'";

/** A valid configuration with `mqtt` (indented two spaces), `rule` and `more` (top-level sections) added. */
function config({ mqtt = '', rule = '', more = '' }: { mqtt?: string; rule?: string; more?: string }): string {
  return `mqtt:
  url: mqtt://127.0.0.1:1883
${mqtt}kafka:
  brokers: [127.0.0.1:9092]
rules:
  - name: r
    filters: ["s/{site}/#"]
${rule}    destinations:
      - { type: kafka, topic: "t.{site}" }
${more}`;
}

describe('validation refuses what the MQTT broker would', () => {
  it('client ids and user names with NUL or control characters, wherever a broker connection is configured', async () => {
    const text = config({
      mqtt: '  clientId: "bad\\0id"\n  username: "ops\\e"\n',
      more: `      - { type: mqtt, broker: { url: "mqtt://cloud:1883", clientId: "out\\u0085" }, topic: "cloud/{site}" }
fromKafka:
  - name: k
    kafka: { groupId: g, topics: [cmd] }
    mqtt: { topic: "cmd/{key}", broker: { url: "mqtt://cloud:1883", clientId: "\\x7f" } }
`,
    });
    expect(await problems(text)).toEqual([
      '3:13 mqtt.clientId: the client id contains the NUL character (U+0000) at character 4',
      '4:13 mqtt.username: the user name contains the control character U+001B at character 4',
      '12:69 rules[0].destinations[1].broker.clientId: the client id contains the control character U+0085 at character 4',
      '16:79 fromKafka[0].mqtt.broker.clientId: the client id contains the control character U+007F at character 1',
    ]);
  });

  it('an over-long client id, at the existing 256-character limit (well inside the 65535 bytes of an MQTT string)', async () => {
    expect(await problems(config({ mqtt: `  clientId: ${'x'.repeat(257)}\n` }))).toEqual(['3:13 mqtt.clientId: String must contain at most 256 character(s)']);
  });

  it('filters and share groups with control characters, and filters over 65535 bytes', async () => {
    const long = 'a'.repeat(65536);
    const text = config({ rule: `    shareGroup: "g\\u0001"\n` }).replace('filters: ["s/{site}/#"]', `filters: ["s/{site}/\\t", "s/{site}/${long}"]`);
    expect(await problems(text)).toEqual([
      '7:15 rules[0].filters[0]: invalid topic filter "s/{site}/\\t": level 3 contains the control character U+0009',
      `7:30 rules[0].filters[1]: invalid topic filter "s/{site}/${'a'.repeat(71)}…" (65545 characters): the filter is 65545 UTF-8 bytes long; MQTT allows at most 65535`,
      '8:17 rules[0].shareGroup: the share group contains the control character U+0001 at character 2',
    ]);
  });

  it('a filter that fits alone but not with its share group prefix', async () => {
    // 65530 bytes as written; "$share/workers/s/+/aaa…" is 65540.
    const text = config({ rule: '    shareGroup: workers\n' }).replace('filters: ["s/{site}/#"]', `filters: ["s/{site}/${'a'.repeat(65521)}"]`);
    expect(await problems(text)).toEqual(['7:15 rules[0].filters[0]: the shared subscription is 65540 UTF-8 bytes long; MQTT allows at most 65535']);
  });

  it('topics published to: static destination, status and fromKafka topics, and the fixed text of templates', async () => {
    const text = config({
      mqtt: '  status: { topic: "bridge/\\0/{clientId}" }\n',
      more: `      - { type: mqtt, broker: { url: "mqtt://cloud:1883" }, topic: "out/\\x01" }
      - { type: mqtt, broker: { url: "mqtt://cloud:1883" }, topic: "out/+/{site}" }
fromKafka:
  - name: k
    kafka: { groupId: g, topics: [cmd] }
    mqtt: { topic: "cmd/\\u009F" }
`,
    });
    expect(await problems(text)).toEqual([
      '3:20 mqtt.status.topic: invalid topic template "bridge/\\u0000/{clientId}": its fixed text contains the NUL character (U+0000), which every topic it renders would carry',
      '11:68 rules[0].destinations[1].topic: invalid topic "out/\\u0001": the topic name contains the control character U+0001 at level 2',
      '12:68 rules[0].destinations[2].topic: invalid topic template "out/+/{site}": its fixed text contains the wildcard "+"; wildcards are only allowed in topic filters',
      '16:20 fromKafka[0].mqtt.topic: invalid topic "cmd/\\u009f": the topic name contains the control character U+009F at level 2',
    ]);
  });

  it('an MQTT dead-letter topic with a control character', async () => {
    expect(await problems(config({ rule: '    deadLetter: { type: mqtt, topic: "dead/\\e" }\n' }))).toEqual([
      '8:38 rules[0].deadLetter.topic: invalid MQTT topic "dead/\\u001b": the topic name contains the control character U+001B at level 2',
    ]);
  });
});

describe('validation refuses what Kafka would', () => {
  it('static topics of Kafka destinations and fromKafka lists outside [A-Za-z0-9._-], ".", "..", over 249 characters', async () => {
    const text = config({
      more: `      - { type: kafka, topic: "has space" }
      - { type: kafka, topic: "${'t'.repeat(250)}" }
      - { type: kafka, topic: "telemetry/{site}" }
fromKafka:
  - name: k
    kafka: { groupId: g, topics: [".", "device commands"] }
    mqtt: { topic: "cmd/{key}" }
`,
    });
    expect(await problems(text)).toEqual([
      `10:31 rules[0].destinations[1].topic: invalid Kafka topic "has space": character 4 " " (U+0020) is not allowed: ${KAFKA_CHARS}`,
      `11:31 rules[0].destinations[2].topic: invalid Kafka topic "${'t'.repeat(80)}…" (250 characters): the name has 250 characters; Kafka allows at most 249`,
      `12:31 rules[0].destinations[3].topic: invalid Kafka topic template "telemetry/{site}": character 10 "/" (U+002F) of its fixed text is not allowed: ${KAFKA_CHARS}`,
      '15:35 fromKafka[0].kafka.topics[0]: invalid Kafka topic ".": a Kafka topic cannot be named "."',
      `15:40 fromKafka[0].kafka.topics[1]: invalid Kafka topic "device commands": character 7 " " (U+0020) is not allowed: ${KAFKA_CHARS}`,
    ]);
  });

  it('the keystore and audit topics', async () => {
    const more = `keys: { store: { type: kafka, topic: "bridge keys" }, masterKey: { env: KEK } }
admin:
  tokens: [{ id: ops, role: admin, env: ADMIN_TOKEN }]
  audit: { file: audit.log, topic: ".." }
`;
    expect(await problems(config({ more }), { KEK: Buffer.alloc(32, 7).toString('base64') })).toEqual([
      `10:38 keys.store.topic: invalid Kafka topic "bridge keys": character 7 " " (U+0020) is not allowed: ${KAFKA_CHARS}`,
      '13:36 admin.audit.topic: invalid Kafka topic "..": a Kafka topic cannot be named ".."',
    ]);
  });

  it('dead-letter topics "." and ".."', async () => {
    const text = config({ rule: '    deadLetter: { topic: "." }\n', more: 'deadLetter: { topic: ".." }\n' });
    expect(await problems(text)).toEqual([
      '8:26 rules[0].deadLetter.topic: invalid Kafka topic ".": a Kafka topic cannot be named "."',
      '11:22 deadLetter.topic: invalid Kafka topic "..": a Kafka topic cannot be named ".."',
    ]);
  });
});

describe('validation refuses a file that is not a configuration, in one short located message', () => {
  it('bytes that are not UTF-8, never substituted', async () => {
    const latin1 = Buffer.concat([Buffer.from('mqtt:\n  url: mqtt://127.0.0.1:1883\n  clientId: capteur-'), Buffer.from([0xe9]), Buffer.from('t\n')]);
    expect(await problems(latin1)).toEqual(['3:21 : invalid UTF-8: byte 0xE9 at byte offset 55 (the configuration must be UTF-8 text)']);
  });

  it('a megabyte of random bytes', async () => {
    const garbage = randomBytes(1 << 20);
    garbage[0] = 0xff;
    expect(await problems(garbage)).toEqual(['1:1 : invalid UTF-8: byte 0xFF at byte offset 0 (the configuration must be UTF-8 text)']);
  });

  it('an alias bomb and deep nesting', async () => {
    const laughs = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`),
    ];
    // Lines 10 to 13 copy 12330 values; each *d of line 14 copies 11111 more, and the 8th passes 100000.
    expect(await problems(`${config({})}${laughs.join('\n')}\n`)).toEqual([
      '14:36 : aliases copy more than 100000 values once *d here is expanded; is this a YAML alias bomb?',
    ]);
    // The document's map is the first level, so the 64th "[" (column 67) is the 65th.
    expect(await problems(`${config({})}x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`)).toEqual(['10:67 : values are nested deeper than 64 levels']);
  });
});
