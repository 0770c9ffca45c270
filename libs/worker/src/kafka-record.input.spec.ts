import { ConsumedRecord, KafkaInbound, KafkaRecordSource } from '@app/kafka';
import { MqttDestination } from '@app/mqtt';
import { RuleOutcome } from '@app/pipeline';
import { kafkaRuleSchema } from '@app/bridge-config';
import { recordFields, recordInput, recordMessage } from './kafka-record.input';
import { KafkaRuleRunner, RuleDeliver } from './kafka-rule.runner';

const record: ConsumedRecord = {
  topic: 'commands',
  partition: 1,
  offset: '42',
  key: Buffer.from('dev-1'),
  value: Buffer.from('{"op":"reboot"}'),
  headers: { 'mqtt.content-type': 'application/json', 'mqtt.user.tenant': Buffer.from('acme'), trace: [Buffer.from('t1'), Buffer.from('t2')] },
};

describe('Kafka records as bridge messages', () => {
  it('carry the value, the rule QoS and retain flag, and MQTT 5 properties from mqtt.* headers', () => {
    const message = recordMessage(record, { topic: 'x', qos: 2, retain: true, retry: { initialMs: 1, maxMs: 1, maxAttempts: 0, maxElapsedMs: 0 } });
    expect(message).toMatchObject({
      topic: 'commands',
      qos: 2,
      retain: true,
      properties: { contentType: 'application/json', userProperties: { tenant: 'acme' } },
    });
    expect(message.payload.toString()).toBe('{"op":"reboot"}');
    // A tombstone becomes an empty payload (with retain: clears the retained message).
    expect(
      recordMessage({ ...record, value: null }, { topic: 'x', qos: 1, retain: true, retry: { initialMs: 1, maxMs: 1, maxAttempts: 0, maxElapsedMs: 0 } })
        .payload,
    ).toHaveLength(0);
  });

  it('give templates key, first header values and the JSON value, parsed once', () => {
    const fields = recordFields(record);
    expect(fields).toMatchObject({ kafkaTopic: 'commands', partition: 1, key: 'dev-1', headers: { trace: 't1', 'mqtt.user.tenant': 'acme' } });
    const parse = jest.spyOn(JSON, 'parse');
    expect(fields.json()).toEqual({ op: 'reboot' });
    expect(fields.json()).toEqual({ op: 'reboot' });
    expect(parse).toHaveBeenCalledTimes(1);
    parse.mockRestore();
    expect(recordFields({ ...record, key: null, value: Buffer.from('nope') })).toMatchObject({ key: null });
    expect(recordFields({ ...record, value: Buffer.from('nope') }).json()).toBeUndefined();
  });

  it('are what KafkaRuleRunner hands the pipeline, as `bridge test` builds them: message, context over the record, origin fields', async () => {
    const config = kafkaRuleSchema.parse({ name: 'cmds', kafka: { groupId: 'g', topics: ['commands'] }, mqtt: { topic: 'devices/{key}/cmd', qos: 2 } });
    let handle: (inbound: KafkaInbound) => void = () => undefined;
    const source = { connect: async (h: typeof handle) => void (handle = h) } as unknown as KafkaRecordSource;
    const destination = { name: 'cmds/mqtt', connect: async () => undefined } as unknown as MqttDestination;
    const deliver = jest.fn<ReturnType<RuleDeliver>, Parameters<RuleDeliver>>(async (): Promise<RuleOutcome> => ({ delivered: ['cmds/mqtt'], failed: [] }));
    await new KafkaRuleRunner(config, { type: 'kafka', topic: 'dlq' }, source, destination, deliver, 'client-1').start();
    const ack = jest.fn();
    handle({ record, ack, release: jest.fn() });
    await new Promise(setImmediate);
    expect(ack).toHaveBeenCalled();

    const [, message, context, origin] = deliver.mock.calls[0];
    const expected = recordInput(record, config, 'client-1');
    expect({ ...message, receivedAt: 0 }).toEqual({ ...expected.message, receivedAt: 0 });
    expect({ ...context, record: undefined }).toEqual({ ...expected.context, record: undefined });
    expect(context).toMatchObject({ topic: 'commands', levels: ['commands'], captures: {}, qos: 2, rule: 'cmds', clientId: 'client-1' });
    expect(context.record).toMatchObject({ kafkaTopic: 'commands', partition: 1, key: 'dev-1' });
    expect(origin).toEqual({ 'kafka.topic': 'commands', 'kafka.partition': '1', 'kafka.offset': '42', 'kafka.key': 'dev-1' });
    expect(recordInput({ ...record, key: null }, config, 'c').origin).not.toHaveProperty('kafka.key');
  });
});
