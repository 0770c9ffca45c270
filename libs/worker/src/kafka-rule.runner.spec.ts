import { ConsumedRecord } from '@app/kafka';
import { recordFields, recordMessage } from './kafka-rule.runner';

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
});
