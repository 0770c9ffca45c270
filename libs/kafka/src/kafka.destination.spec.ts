import { BridgeMessage, OutboundRecord } from '@app/core';
import { KafkaDestination } from './kafka.destination';
import { kafkaDestinationSchema } from './kafka.schema';
import { KafkaRecord, KafkaWriter } from './kafka.writer';

const message: BridgeMessage = {
  topic: 's/lyon',
  payload: Buffer.from('21.5'),
  qos: 1,
  retain: false,
  properties: { userProperties: { unit: 'C' } },
  receivedAt: 0,
};

function outbound(headers: OutboundRecord['headers']): OutboundRecord {
  return {
    message,
    rule: 'r',
    context: { topic: message.topic, levels: ['s', 'lyon'], captures: { site: 'lyon' }, qos: 1, rule: 'r', clientId: 'c' },
    payload: () => message.payload,
    headers,
  };
}

/** Writes one message through a destination configured with `extra` and returns the record handed to the writer. */
async function written(extra: Record<string, unknown>): Promise<KafkaRecord> {
  const records: KafkaRecord[] = [];
  const writer = { write: async (record: KafkaRecord) => void records.push(record) } as unknown as KafkaWriter;
  const config = kafkaDestinationSchema.parse({ type: 'kafka', topic: 't', headers: { site: '{site}' }, ...extra });
  const destination = new KafkaDestination('r/kafka[0]', config, writer, ['site']);
  await destination.write(outbound({ 'bridge.key-version': '3' }));
  return records[0];
}

describe('KafkaDestination mqttHeaders', () => {
  it('writes every mqtt.* header and bridge.rule by default', async () => {
    expect((await written({})).headers).toEqual({
      'mqtt.topic': 's/lyon',
      'mqtt.qos': '1',
      'mqtt.retain': 'false',
      'bridge.rule': 'r',
      'mqtt.user.unit': 'C',
      'bridge.key-version': '3',
      site: 'lyon',
    });
  });

  it('minimal: the MQTT topic and properties, plus the transform and template headers', async () => {
    expect((await written({ mqttHeaders: 'minimal' })).headers).toEqual({
      'mqtt.topic': 's/lyon',
      'mqtt.user.unit': 'C',
      'bridge.key-version': '3',
      site: 'lyon',
    });
  });

  it('none: only the transform and template headers', async () => {
    expect((await written({ mqttHeaders: 'none' })).headers).toEqual({ 'bridge.key-version': '3', site: 'lyon' });
  });

  it('refuses an unknown mode at validation', () => {
    expect(kafkaDestinationSchema.safeParse({ type: 'kafka', topic: 't', mqttHeaders: 'some' }).success).toBe(false);
  });
});

describe('KafkaDestination.write', () => {
  it('rejects (does not throw) when the rendered topic is not a Kafka topic name', async () => {
    const writer = { write: async () => undefined } as unknown as KafkaWriter;
    // Validation refuses fixed text Kafka would refuse, so only a placeholder can render a bad name: here "s/lyon".
    const destination = new KafkaDestination('r/kafka[0]', kafkaDestinationSchema.parse({ type: 'kafka', topic: '{topic}' }), writer, ['site']);
    let result: Promise<void> | undefined;
    expect(() => (result = destination.write(outbound({})))).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: 'invalid-topic' });
  });
});

describe('KafkaDestination.describe', () => {
  it('gives the topic, key and headers write hands the writer, without writing', async () => {
    const records: KafkaRecord[] = [];
    const writer = { write: async (record: KafkaRecord) => void records.push(record) } as unknown as KafkaWriter;
    const config = kafkaDestinationSchema.parse({ type: 'kafka', topic: 't.{site}', key: '{site}-k', headers: { site: '{site}' }, partition: 2 });
    const destination = new KafkaDestination('r/kafka[0]', config, writer, ['site']);
    const preview = destination.describe(outbound({ 'bridge.key-version': '3' }));
    expect(records).toHaveLength(0);
    await destination.write(outbound({ 'bridge.key-version': '3' }));
    const [written] = records;
    expect(preview).toEqual({ summary: 'kafka topic t.lyon key lyon-k partition 2', address: written.topic, key: written.key, headers: written.headers });
    expect(preview.address).toBe('t.lyon');
  });

  it('throws what write rejects with for a topic Kafka would refuse', () => {
    const writer = {} as KafkaWriter;
    const destination = new KafkaDestination('r/kafka[0]', kafkaDestinationSchema.parse({ type: 'kafka', topic: '{topic}' }), writer, ['site']);
    expect(() => destination.describe(outbound({}))).toThrow(expect.objectContaining({ code: 'invalid-topic' }));
  });
});
