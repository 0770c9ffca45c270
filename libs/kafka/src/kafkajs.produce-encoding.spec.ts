import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { encodedProduce, useProduceEncoding } from './kafkajs.produce-encoding';
import { encodeProduceRequest } from './produce-request.encoder';

const record = { key: 'k', value: Buffer.from('v'), headers: { 'mqtt.topic': 'a/b' } };
const args = { acks: -1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [record] }] }] };

/** A stand-in for kafkajs's Produce definition whose own encoder is recognisable. */
function kafkajsDefinition() {
  const kafkajsEncode = jest.fn(async () => ({ buffer: Buffer.from('kafkajs') }));
  const build = jest.fn(() => ({ request: { apiKey: 0, apiVersion: 7, encode: kafkajsEncode }, response: 'decoder' }));
  return { definition: { versions: ['0', '3', '7'], protocol: jest.fn(() => build) }, kafkajsEncode, build };
}

describe('encodedProduce', () => {
  it('encodes uncompressed v3+ requests itself and keeps kafkajs’s request fields and response decoder', async () => {
    const { definition, kafkajsEncode } = kafkajsDefinition();
    const built = encodedProduce(definition).protocol({ version: 7 })(args);
    expect(built.response).toBe('decoder');
    expect(built.request).toMatchObject({ apiKey: 0, apiVersion: 7 });
    const encoded = (await built.request.encode()) as { buf: Buffer; buffer: Buffer; offset: number; size(): number };
    const expected = encodeProduceRequest(args, 0)!;
    // Only the batch timestamps (and so the CRC) depend on the clock.
    expect(encoded.buffer.length).toBe(expected.length);
    expect(encoded.buf).toBe(encoded.buffer);
    expect(encoded.size()).toBe(expected.length);
    expect(encoded.offset).toBe(expected.length);
    expect(kafkajsEncode).not.toHaveBeenCalled();
  });

  it('leaves compressed requests, records with timestamps and versions before 3 to kafkajs', async () => {
    const { definition, kafkajsEncode, build } = kafkajsDefinition();
    const encoded = encodedProduce(definition);
    expect(encoded.protocol({ version: 2 })).toBe(build);
    expect(
      await encoded
        .protocol({ version: 3 })({ ...args, compression: 1 })
        .request.encode(),
    ).toEqual({ buffer: Buffer.from('kafkajs') });
    const stamped = { ...args, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ ...record, timestamp: '5' }] }] }] };
    expect(await encoded.protocol({ version: 3 })(stamped).request.encode()).toEqual({ buffer: Buffer.from('kafkajs') });
    expect(kafkajsEncode).toHaveBeenCalledTimes(2);
  });
});

describe('useProduceEncoding', () => {
  const kafkajsRequests = () => (require('kafkajs/src/protocol/requests') as { requests: { Produce: unknown } }).requests;

  afterEach(() => {
    useProduceEncoding(false);
  });

  it('changes nothing for another kafkajs version', () => {
    const before = kafkajsRequests().Produce;
    expect(useProduceEncoding(true, '2.3.0')).toBe(false);
    expect(kafkajsRequests().Produce).toBe(before);
  });

  it('replaces kafkajs’s Produce definition once, and puts kafkajs’s own back when turned off', () => {
    const kafkajs = kafkajsRequests().Produce;
    expect(useProduceEncoding(true)).toBe(true);
    const installed = kafkajsRequests().Produce;
    expect(installed).not.toBe(kafkajs);
    expect(useProduceEncoding(true)).toBe(true);
    expect(kafkajsRequests().Produce).toBe(installed);
    expect(useProduceEncoding(false)).toBe(false);
    expect(kafkajsRequests().Produce).toBe(kafkajs);
    expect(useProduceEncoding(false)).toBe(false);
    expect(kafkajsRequests().Produce).toBe(kafkajs);
  });
});
