import { describe, expect, it } from '@jest/globals';
import { keyPartition, murmur2 } from './murmur2';

const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;

describe('murmur2', () => {
  it('matches the Java client on its published keys', () => {
    // From Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it('agrees with kafkajs for every length up to 40 bytes, high bytes and UTF-8 included', () => {
    for (let length = 0; length <= 40; length++) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 97 + length * 31 + 200) & 0xff));
      expect(murmur2(bytes)).toBe(kafkajsMurmur2(bytes));
    }
    for (const key of ['site/7/device-12/temp', 'bench/ab12cd/qos1-256b/d07', 'zürich/température/€', '']) {
      expect(murmur2(Buffer.from(key))).toBe(kafkajsMurmur2(key));
    }
  });
});

describe('keyPartition', () => {
  it('keeps the hash positive as the Java client does (masking, not absolute value)', () => {
    expect(keyPartition(-1, 3)).toBe(0x7fffffff % 3);
    expect(keyPartition(murmur2(Buffer.from('foobar')), 6)).toBe((-790332482 & 0x7fffffff) % 6);
  });
});
