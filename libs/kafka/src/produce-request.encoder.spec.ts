import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { crc32c } from './crc32c';
import { encodeProduceRequest, ProduceMessage, ProduceRequestData, varintSize, writeVarint } from './produce-request.encoder';

const kafkajsProduceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: unknown) => {
  encode(): Promise<{ buffer: Buffer }>;
};
const kafkajsLong = require('kafkajs/src/utils/long') as { fromValue(value: unknown): unknown };
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;

const NOW = 1_795_000_000_123;

async function kafkajsBytes(request: ProduceRequestData): Promise<Buffer> {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
  const producerId = request.producerId === undefined ? undefined : kafkajsLong.fromValue(request.producerId);
  return (await kafkajsProduceV3({ ...request, producerId }).encode()).buffer;
}

function request(messages: ProduceMessage[], extra: Partial<ProduceRequestData> = {}): ProduceRequestData {
  return { acks: -1, timeout: 30_000, topicData: [{ topic: 'telemetry', partitions: [{ partition: 0, messages }] }], ...extra };
}

const bridgeRecord = (i: number): ProduceMessage => ({
  key: `site/7/device-${i}/temp`,
  value: Buffer.alloc(256, i),
  headers: { 'mqtt.topic': `site/7/device-${i}/temp`, 'mqtt.qos': '1', 'mqtt.retain': 'false', 'bridge.rule': 'telemetry' },
});

describe('encodeProduceRequest', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const cases: Array<[string, ProduceRequestData]> = [
    [
      'the bridge’s records, idempotent',
      request([0, 1, 2].map(bridgeRecord), {
        producerId: 4711,
        producerEpoch: 3,
        topicData: [{ topic: 't', partitions: [{ partition: 2, firstSequence: 900, messages: [0, 1, 2].map(bridgeRecord) }] }],
      }),
    ],
    ['no key, no headers, acks 1', request([{ key: null, value: Buffer.from('x') }], { acks: 1 })],
    ['string keys and values, multi-byte UTF-8', request([{ key: 'pläne/ü/€', value: 'température 21 °C', headers: { ключ: 'значение' } }])],
    [
      'Buffer keys, Buffer and repeated header values',
      request([{ key: Buffer.from([0, 255, 7]), value: Buffer.alloc(0), headers: { a: Buffer.from([1, 2]), b: ['one', Buffer.from('two')], c: '' } }]),
    ],
    [
      'lengths that need multi-byte varints',
      request([{ key: 'k'.repeat(200), value: Buffer.alloc(70_000, 9), headers: { ['h'.repeat(130)]: 'v'.repeat(20_000) } }]),
    ],
    ['a transactional id, acks 0', request([bridgeRecord(1)], { transactionalId: 'tx-1', acks: 0, producerId: '9007199254740993', producerEpoch: 1 })],
    [
      'several topics and partitions',
      {
        acks: -1,
        timeout: 5_000,
        topicData: [
          {
            topic: 'a',
            partitions: [
              { partition: 0, messages: [bridgeRecord(1), bridgeRecord(2)] },
              { partition: 5, firstSequence: 3, messages: [bridgeRecord(3)] },
            ],
          },
          { topic: 'b.c_d-e', partitions: [{ partition: 1, messages: Array.from({ length: 130 }, (_, i) => bridgeRecord(i)) }] },
        ],
      },
    ],
  ];

  it.each(cases)('writes what kafkajs writes: %s', async (_, data) => {
    expect(encodeProduceRequest(data, NOW)).toEqual(await kafkajsBytes(data));
  });

  it('writes own headers only, as kafkajs does, and an empty transactional id without the transactional flag', async () => {
    const headers = Object.assign(Object.create({ inherited: 'x' }) as Record<string, string>, { own: 'y' });
    expect(encodeProduceRequest(request([{ key: 'k', value: Buffer.from('v'), headers }]), NOW)).toEqual(
      await kafkajsBytes(request([{ key: 'k', value: Buffer.from('v'), headers: { own: 'y' } }])),
    );
    const emptyId = request([bridgeRecord(1)], { transactionalId: '' });
    expect(encodeProduceRequest(emptyId, NOW)).toEqual(await kafkajsBytes(emptyId));
  });

  it('leaves records with a timestamp to kafkajs', () => {
    expect(encodeProduceRequest(request([bridgeRecord(1), { ...bridgeRecord(2), timestamp: '1700000000000' }]), NOW)).toBeUndefined();
  });

  it('skips headers whose value is undefined (kafkajs would throw on them)', async () => {
    const withGap = encodeProduceRequest(request([{ key: 'k', value: Buffer.from('v'), headers: { a: 'x', gone: undefined, b: 'y' } }]), NOW);
    expect(withGap).toEqual(await kafkajsBytes(request([{ key: 'k', value: Buffer.from('v'), headers: { a: 'x', b: 'y' } }])));
  });
});

describe('crc32c', () => {
  it('gives the published check value and agrees with kafkajs over every length and offset', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= bytes.length; end += 13) expect(crc32c(bytes, start, end)).toBe(kafkajsCrc32c(bytes.subarray(start, end)));
    }
  });
});

describe('varints', () => {
  it('zigzag-encodes lengths and -1 as Kafka does, in as many bytes as varintSize says', () => {
    const cases: Array<[number, number[]]> = [
      [0, [0]],
      [-1, [1]],
      [1, [2]],
      [63, [126]],
      [64, [128, 1]],
      [300, [216, 4]],
      [70_000, [224, 197, 8]],
    ];
    for (const [value, bytes] of cases) {
      const out = Buffer.alloc(8);
      expect([...out.subarray(0, writeVarint(out, 0, value))]).toEqual(bytes);
      expect(varintSize(value)).toBe(bytes.length);
    }
  });
});
