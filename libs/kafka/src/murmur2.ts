/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`), which its default partitioner hashes keys
 * with, so a key lands on the partition the Java client would pick. 32-bit arithmetic with
 * Math.imul: kafkajs's own version multiplies BigInt-backed Longs, 8 % of the worker's CPU.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2] << 16;
  if (rest >= 2) h ^= data[whole + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole], m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives a keyed record among `partitions`. */
export function keyPartition(hash: number, partitions: number): number {
  return (hash & 0x7fffffff) % partitions;
}
