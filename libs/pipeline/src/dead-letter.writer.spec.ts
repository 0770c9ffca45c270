import { createHash } from 'node:crypto';
import { BridgeMessage, ClassifiedFailure, classify, DestinationRejectedError } from '@app/core';
import { KafkaRecord, KafkaWriter, messageFromHeaders } from '@app/kafka';
import { CUT_PAYLOAD_BYTES, DeadLetterWriter, MqttPublish } from './dead-letter.writer';

const message: BridgeMessage = { topic: 'a/b', payload: Buffer.from('x'), qos: 2, retain: true, properties: { contentType: 'text/plain' }, receivedAt: 0 };
const failure: ClassifiedFailure = classify(new DestinationRejectedError('too big', 'record-too-large'));
const retry = { initialMs: 1, maxMs: 1, maxAttempts: 0, maxElapsedMs: 0 };

describe('DeadLetterWriter', () => {
  // Replay rebuilds the message from these headers, so they must not depend on the
  // destinations' mqttHeaders option (a dead letter has no destination options at all).
  it('writes every header replay needs to a Kafka dead letter', async () => {
    const records: KafkaRecord[] = [];
    const kafka = { write: async (record: KafkaRecord) => void records.push(record) } as unknown as KafkaWriter;
    const publish: MqttPublish = async () => undefined;
    await new DeadLetterWriter(kafka, publish, retry).write({
      message,
      rule: 'r',
      destination: 'r/kafka[0]',
      failure,
      target: { type: 'kafka', topic: 'dlq' },
    });

    const { headers } = records[0];
    expect(String(headers['bridge.rule'])).toBe('r');
    expect(messageFromHeaders(headers, records[0].value)).toMatchObject({ topic: 'a/b', qos: 2, retain: true, properties: { contentType: 'text/plain' } });
  });

  it('writes a dead letter too large for its target with its payload cut, once, instead of retrying it for ever', async () => {
    const big: BridgeMessage = { ...message, payload: Buffer.alloc(3 * 1024 * 1024, 7), properties: { userProperties: { huge: 'u'.repeat(1000) } } };
    const attempts: KafkaRecord[] = [];
    const kafka = {
      write: async (record: KafkaRecord) => {
        attempts.push(record);
        if (record.value.length > 1024 * 1024) throw new DestinationRejectedError('record of 3 MiB exceeds the limit', 'record-too-large');
      },
    } as unknown as KafkaWriter;
    await new DeadLetterWriter(kafka, async () => undefined, retry).write({
      message: big,
      rule: 'r',
      destination: 'r/kafka[0]',
      failure,
      target: { type: 'kafka', topic: 'dlq' },
    });

    expect(attempts).toHaveLength(2);
    const { headers, value } = attempts[1];
    expect(value).toEqual(big.payload.subarray(0, CUT_PAYLOAD_BYTES));
    expect(String(headers['bridge.dlq.payload'])).toBe('cut');
    expect(String(headers['bridge.dlq.payload-bytes'])).toBe(String(3 * 1024 * 1024));
    expect(String(headers['bridge.dlq.payload-sha256'])).toBe(createHash('sha256').update(big.payload).digest('hex'));
    expect(String(headers['bridge.dlq.reason'])).toBe('record-too-large');
    expect(String(headers['mqtt.topic'])).toBe('a/b');
    expect(headers['mqtt.user.huge']).toBeUndefined();
    expect(attempts[0].headers['mqtt.user.huge']).toBeDefined();
  });
});
