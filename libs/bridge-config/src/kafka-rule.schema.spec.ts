import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { loadBridgeConfig } from './bridge-config.loader';

const dir = mkdtempSync(join(tmpdir(), 'kafka-rule-spec-'));
let n = 0;
function write(text: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function problems(text: string): Promise<string[]> {
  try {
    await loadBridgeConfig(write(text), {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
  }
  throw new Error('expected the configuration to be refused');
}

const head = `
mqtt: { url: mqtt://127.0.0.1:1883 }
kafka: { brokers: [127.0.0.1:9092] }
`;

describe('fromKafka rules', () => {
  it('load on their own, with defaults', async () => {
    const loaded = await loadBridgeConfig(
      write(`${head}
fromKafka:
  - name: commands
    kafka: { groupId: g, topics: [device.commands] }
    mqtt: { topic: "devices/{key}/cmd" }
`),
      {},
    );
    expect(loaded.rules).toEqual([]);
    expect(loaded.config.fromKafka[0]).toMatchObject({
      kafka: { groupId: 'g', topics: ['device.commands'], startFrom: 'earliest', maxInFlight: 100, commitIntervalMs: 200 },
      mqtt: { topic: 'devices/{key}/cmd', qos: 1, retain: false, retry: { maxAttempts: 0 } },
      transform: { mode: 'passthrough' },
    });
  });

  it('report template, source and transform problems with line, column and path', async () => {
    const found = await problems(`${head}
fromKafka:
  - name: commands
    kafka: { groupId: g, topics: [a], topicPattern: "^a" }
    mqtt: { topic: "devices/{key}/cmd" }
  - name: bad-template
    kafka: { groupId: g, topicPattern: "^cmd\\\\." }
    mqtt: { topic: "devices/{topic}/cmd" }
    transform: { mode: encrypt }
  - name: opened
    kafka: { groupId: g, topics: [a] }
    mqtt: { topic: "d/{payload.id}" }
    transform: { mode: decrypt, sourceKey: k }
`);
    expect(found).toEqual([
      expect.stringMatching(/^7:34 fromKafka\[0\]\.kafka\.topics: give exactly one of topics and topicPattern$/),
      expect.stringMatching(
        /^11:20 fromKafka\[1\]\.mqtt\.topic: invalid template "devices\/\{topic\}\/cmd" at column 9: unknown placeholder "\{topic\}"; a template for Kafka records may use \{key\}/,
      ),
      '12:16 fromKafka[1].transform.destinationKey: mode encrypt needs destinationKey',
      expect.stringMatching(/^15:20 fromKafka\[2\]\.mqtt\.topic: \{payload\.\*\} reads the record value as it is in Kafka/),
    ]);
  });

  it('need unique names over both lists, and at least one rule somewhere', async () => {
    expect(
      await problems(`${head}
rules:
  - { name: same, filters: ["a/#"], destinations: [{ type: kafka, topic: t }] }
fromKafka:
  - { name: same, kafka: { groupId: g, topics: [t2] }, mqtt: { topic: "b/{key}" } }
`),
    ).toEqual([expect.stringMatching(/^8:13 fromKafka\[0\]\.name: duplicate rule name "same" \(also rules\[0\]\)$/)]);
    expect(await problems(head)).toEqual([expect.stringMatching(/rules: no rules: give at least one entry in rules or fromKafka$/)]);
  });

  it('refuse a loop through the source broker and back into the topic read', async () => {
    const found = await problems(`${head}
rules:
  - { name: up, filters: ["devices/+/cmd"], destinations: [{ type: kafka, topic: cmds }] }
fromKafka:
  - { name: down, kafka: { groupId: g, topics: [cmds] }, mqtt: { topic: "devices/{key}/cmd" } }
`);
    expect(found).toEqual([
      expect.stringMatching(/fromKafka\[0\]\.mqtt\.topic: rule up subscribes to these topics and writes them back to Kafka topic cmds, which this rule reads/),
    ]);
  });

  it('refuse that loop through another spelling of the source broker', async () => {
    const found = await problems(`${head}
rules:
  - { name: up, filters: ["devices/+/cmd"], destinations: [{ type: kafka, topic: cmds }] }
fromKafka:
  - { name: down, kafka: { groupId: g, topics: [cmds] }, mqtt: { topic: "devices/{key}/cmd", broker: { url: "tcp://localhost" } } }
`);
    expect(found).toEqual([expect.stringMatching(/fromKafka\[0\]\.mqtt\.topic: rule up subscribes to these topics/)]);
  });
});

describe('MQTT destinations on the source broker', () => {
  it.each(['mqtt://localhost:1883', 'tcp://127.0.0.1', 'mqtt://127.0.0.1:1883/'])(
    'are refused when they feed a rule, whatever the spelling: %s',
    async (url) => {
      const found = await problems(`${head}
rules:
  - { name: echo, filters: ["in/#"], destinations: [{ type: mqtt, topic: "in/{topic}", broker: { url: "${url}" } }] }
`);
      expect(found).toEqual([
        expect.stringMatching(/rules\[0\]\.destinations\[0\]\.topic: publishes on the source broker to topics that rule echo subscribes to/),
      ]);
    },
  );

  it('are allowed on another broker', async () => {
    const loaded = await loadBridgeConfig(
      write(`${head}
rules:
  - { name: echo, filters: ["in/#"], destinations: [{ type: mqtt, topic: "in/{topic}", broker: { url: "mqtt://127.0.0.1:1884" } }] }
`),
      {},
    );
    expect(loaded.config.rules[0].destinations[0]).toMatchObject({ type: 'mqtt', broker: { url: 'mqtt://127.0.0.1:1884' } });
  });
});
