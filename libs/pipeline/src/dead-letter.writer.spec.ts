import { BridgeMessage, ClassifiedFailure, classify, DestinationRejectedError } from '@app/core';
import { KafkaRecord, KafkaWriter, messageFromHeaders } from '@app/kafka';
import { DeadLetterWriter, MqttPublish } from './dead-letter.writer';

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
    await new DeadLetterWriter(kafka, publish, retry).write({ message, rule: 'r', destination: 'r/kafka[0]', failure, target: { type: 'kafka', topic: 'dlq' } });

    const { headers } = records[0];
    expect(String(headers['bridge.rule'])).toBe('r');
    expect(messageFromHeaders(headers, records[0].value)).toMatchObject({ topic: 'a/b', qos: 2, retain: true, properties: { contentType: 'text/plain' } });
  });
});
