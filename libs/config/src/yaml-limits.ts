import { isAlias, isMap, isPair, isScalar, isSeq, Node } from 'yaml';

/** Far more than a bridge configuration needs (under 10), far less than a call stack holds. */
export const MAX_YAML_NESTING = 64;
/** Values aliases may copy in all: repeated defaults fit easily; a "billion laughs" bomb does not. */
export const MAX_ALIAS_VALUES = 100_000;

/** Why a parsed document is refused before anything walks it recursively, and where. */
export interface YamlLimitFault {
  /** Character offset of the offending node in the text. */
  readonly offset: number;
  readonly message: string;
}

interface Size {
  /** Values (collections and scalars) the node stands for once aliases are expanded. */
  readonly values: number;
  /** Collections nested in it, itself included, once aliases are expanded. */
  readonly height: number;
}

type Step = { readonly node: unknown; readonly level: number; readonly leaving: boolean };

/**
 * Checks a parsed document's nesting and what its aliases expand to. The YAML library does not
 * expand aliases while parsing, but converting to JavaScript and validating walk the expanded
 * tree recursively: a deep or alias-bombed file would exhaust the stack or the memory with no
 * line to show. Iterative, because the point is surviving documents too deep for recursion.
 */
export function findYamlLimitFault(contents: unknown): YamlLimitFault | null {
  const sizes = new Map<unknown, Size>();
  // An alias refers to the last anchor of its name before it, which is the last one met in text order.
  const anchors = new Map<string, unknown>();
  let copied = 0;
  const stack: Step[] = [{ node: contents, level: 0, leaving: false }];
  while (stack.length > 0) {
    const { node, level, leaving } = stack.pop()!;
    if (leaving) {
      sizes.set(node, collectionSize(children(node).map((child) => sizes.get(child))));
      continue;
    }
    if (node === null || node === undefined) continue;
    const anchor = (node as Node).anchor;
    if (anchor) anchors.set(anchor, node);
    if (isScalar(node)) {
      sizes.set(node, { values: 1, height: 0 });
    } else if (isAlias(node)) {
      const target = anchors.get(node.source);
      const at = offsetOf(node);
      if (target === undefined) return { offset: at, message: `alias *${node.source} has no anchor &${node.source} before it` };
      const size = sizes.get(target);
      if (size === undefined) return { offset: at, message: `alias *${node.source} is inside the value it refers to, which would never end` };
      copied += size.values;
      if (copied > MAX_ALIAS_VALUES) {
        return { offset: at, message: `aliases copy more than ${MAX_ALIAS_VALUES} values once *${node.source} here is expanded; is this a YAML alias bomb?` };
      }
      if (level + size.height > MAX_YAML_NESTING) {
        return { offset: at, message: `alias *${node.source} nests values deeper than ${MAX_YAML_NESTING} levels once expanded` };
      }
      sizes.set(node, size);
    } else if (isMap(node) || isSeq(node)) {
      if (level + 1 > MAX_YAML_NESTING) return { offset: offsetOf(node), message: `values are nested deeper than ${MAX_YAML_NESTING} levels` };
      stack.push({ node, level, leaving: true });
      const inner = children(node);
      for (let i = inner.length - 1; i >= 0; i--) stack.push({ node: inner[i], level: level + 1, leaving: false });
    }
  }
  return null;
}

/** Keys and values of a map, items of a sequence, in text order. */
function children(node: unknown): unknown[] {
  if (isSeq(node)) return node.items;
  if (isMap(node)) return node.items.flatMap((pair) => (isPair(pair) ? [pair.key, pair.value] : []));
  return [];
}

function collectionSize(inner: ReadonlyArray<Size | undefined>): Size {
  let values = 1;
  let deepest = 0;
  for (const size of inner) {
    values += size?.values ?? 0;
    deepest = Math.max(deepest, size?.height ?? 0);
  }
  return { values, height: 1 + deepest };
}

function offsetOf(node: unknown): number {
  return (node as Node).range?.[0] ?? 0;
}
