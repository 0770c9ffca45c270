import type { FilterLevel, TopicFilter } from './topic-filter';

/**
 * True when every topic matching `b` also matches `a`, honouring the rule that a
 * leading wildcard never matches topics starting with '$' (spec 4.7.2).
 */
export function filterCovers(a: TopicFilter, b: TopicFilter): boolean {
  if (startsWithWildcard(a) && isDollarOnly(b)) return false;
  const length = Math.max(a.levels.length, b.levels.length);
  for (let i = 0; i <= length; i++) {
    const outer = a.levels[i];
    const inner = b.levels[i];
    if (outer === undefined) return inner === undefined;
    if (outer.kind === 'multi') return true;
    // A topic name is never empty, so a leading '#' cannot match "its parent" and always fills a
    // first level; '+' consumes that level and leaves a '#' that may then stop, which only '#' covers.
    if (i === 0 && inner.kind === 'multi' && outer.kind === 'single') return a.levels[1]?.kind === 'multi';
    // Past this point `a` needs exactly one more level; a `b` that may stop here
    // (by ending, or by '#' matching its parent) or may take any value escapes it.
    if (inner === undefined || inner.kind === 'multi') return false;
    if (outer.kind === 'literal' && (inner.kind !== 'literal' || inner.value !== outer.value)) return false;
  }
  return true;
}

/** True when at least one topic name matches both filters, honouring the '$' rule of spec 4.7.2. */
export function filtersIntersect(a: TopicFilter, b: TopicFilter): boolean {
  if ((startsWithWildcard(a) && isDollarOnly(b)) || (startsWithWildcard(b) && isDollarOnly(a))) return false;
  const length = Math.max(a.levels.length, b.levels.length);
  for (let i = 0; i <= length; i++) {
    const x = a.levels[i];
    const y = b.levels[i];
    if (x === undefined || y === undefined) return x === y || isMulti(x) || isMulti(y);
    if (x.kind === 'multi' || y.kind === 'multi') return true;
    if (x.kind === 'literal' && y.kind === 'literal' && x.value !== y.value) return false;
  }
  return true;
}

function startsWithWildcard(filter: TopicFilter): boolean {
  return filter.levels[0].kind !== 'literal';
}

// Only a literal first level can reach '$' topics, and then it reaches nothing else.
function isDollarOnly(filter: TopicFilter): boolean {
  const first = filter.levels[0];
  return first.kind === 'literal' && first.value.startsWith('$');
}

function isMulti(level: FilterLevel | undefined): boolean {
  return level?.kind === 'multi';
}
