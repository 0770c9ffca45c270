import { isMap, isPair, isScalar, isSeq, Node } from 'yaml';

/** A map key written twice in the same map: the later one would silently win. */
export interface DuplicateKey {
  /** Character offsets of the repeated key and of its first occurrence. */
  readonly offset: number;
  readonly firstOffset: number;
  readonly key: string;
}

/**
 * Every repeated scalar key, in text order. The YAML library can refuse them itself, but it
 * compares each key with all those before it, which takes minutes on a megabyte-sized map;
 * this takes one pass.
 */
export function findDuplicateKeys(contents: unknown): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const stack: unknown[] = [contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
    } else if (isMap(node)) {
      // Typed values, as the library compares them: 1 and "1" are different keys.
      const seen = new Map<unknown, unknown>();
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const first = seen.get(pair.key.value);
        if (first === undefined) seen.set(pair.key.value, pair.key);
        else found.push({ offset: offsetOf(pair.key), firstOffset: offsetOf(first), key: String(pair.key.value) });
      }
      for (let i = node.items.length - 1; i >= 0; i--) {
        const pair = node.items[i];
        if (isPair(pair)) stack.push(pair.value, pair.key);
      }
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}

function offsetOf(node: unknown): number {
  return (node as Node).range?.[0] ?? 0;
}
