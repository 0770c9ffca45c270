import type { Sodium } from './sodium.provider';
import { readySodium, hex } from './testing/test-keys';
import { topicTag } from './topic-binding';
import { TOPIC_CACHE_MAX_BYTES, TopicTagCache } from './topic-tag.cache';

let sodium: Sodium;

beforeAll(async () => {
  sodium = await readySodium();
});

describe('TopicTagCache', () => {
  it('holds the UTF-8 bytes and the BLAKE2b-64 tag of a topic, and answers a hit with the same entry', () => {
    const cache = new TopicTagCache(sodium);
    const entry = cache.get('é/a');
    expect(hex(entry.bytes)).toBe('c3a92f61');
    expect(hex(entry.tag)).toBe(hex(topicTag(sodium, entry.bytes)));
    expect(cache.get('é/a')).toBe(entry);
  });

  it('holds at most its capacity, and keeps a topic in use while others pass through', () => {
    const cache = new TopicTagCache(sodium, 8);
    const hot = cache.get('hot');
    for (let i = 0; i < 1000; i++) {
      cache.get(`cold/${i}`);
      if (i % 3 === 0) expect(cache.get('hot')).toBe(hot);
      expect(cache.size).toBeLessThanOrEqual(8);
    }
    expect(hex(cache.get('cold/0').tag)).toBe(hex(topicTag(sodium, Buffer.from('cold/0'))));
  });

  it('does not keep long topics, and does not hash one too long to bind', () => {
    const cache = new TopicTagCache(sodium);
    const long = 'x'.repeat(TOPIC_CACHE_MAX_BYTES + 1);
    expect(hex(cache.get(long).tag)).toBe(hex(topicTag(sodium, Buffer.from(long))));
    expect(cache.size).toBe(0);
    expect(cache.get('x'.repeat(0x10000)).tag.length).toBe(0);
  });
});
