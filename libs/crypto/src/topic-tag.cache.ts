import { utf8 } from './bytes';
import type { Sodium } from './sodium.provider';
import { MAX_BOUND_TOPIC_BYTES, topicTag } from './topic-binding';

/** A topic as the envelope binds it: its UTF-8 bytes and their 8-byte BLAKE2b tag. Shared: never mutate. */
export interface BoundTopic {
  readonly bytes: Uint8Array;
  readonly tag: Uint8Array;
}

/**
 * 1024 topics: a bridge worker sees a few hundred hot topics at most per rule (the benchmark: 100),
 * and an entry costs about 0.2-1.5 KB (the key string, its UTF-8 bytes, the tag, the Map slot), so
 * the bound is 1.5 MB at worst. A fleet with more distinct topics than that only loses the cache
 * on the coldest ones: a miss costs what every message cost before (one encode, one BLAKE2b).
 */
export const TOPIC_CACHE_ENTRIES = 1024;
/** Longer topics are computed every time rather than cached, so no entry can hold 64 KB. */
export const TOPIC_CACHE_MAX_BYTES = 512;

/**
 * The topic tag and UTF-8 bytes per topic, bounded, approximately least recently used first out.
 * Two generations (the scheme of the quick-lru package): new and refreshed topics go into the
 * recent map; when it holds half the capacity it becomes the old map and the previous old map is
 * dropped. A hit in the recent map is one Map lookup (no reordering on every message, as a
 * delete-and-set LRU does); a hit in the old map moves the topic back into the recent one. At most
 * `capacity` topics are held, and a topic used within the last capacity/2 distinct topics is
 * never dropped. Everything cached is public (the tag travels in every bound envelope, the topic
 * in every MQTT packet).
 */
export class TopicTagCache {
  private recent = new Map<string, BoundTopic>();
  private old = new Map<string, BoundTopic>();
  private readonly generation: number;

  constructor(
    private readonly sodium: Sodium,
    capacity = TOPIC_CACHE_ENTRIES,
  ) {
    this.generation = Math.max(1, Math.floor(capacity / 2));
  }

  get(topic: string): BoundTopic {
    const hit = this.recent.get(topic);
    if (hit !== undefined) return hit;
    const aged = this.old.get(topic);
    if (aged !== undefined) {
      this.old.delete(topic);
      this.remember(topic, aged);
      return aged;
    }
    const bytes = utf8(topic);
    if (bytes.length > TOPIC_CACHE_MAX_BYTES) {
      // A topic too long to bind is never hashed: callers refuse it by its length.
      return { bytes, tag: bytes.length > MAX_BOUND_TOPIC_BYTES ? NO_TAG : topicTag(this.sodium, bytes) };
    }
    const entry: BoundTopic = { bytes, tag: topicTag(this.sodium, bytes) };
    this.remember(topic, entry);
    return entry;
  }

  /** Topics held, at most the capacity. */
  get size(): number {
    return this.recent.size + this.old.size;
  }

  private remember(topic: string, entry: BoundTopic): void {
    if (this.recent.size >= this.generation) {
      this.old = this.recent;
      this.recent = new Map();
    }
    this.recent.set(topic, entry);
  }
}

const NO_TAG = new Uint8Array(0);
