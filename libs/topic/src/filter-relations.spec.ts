import { filterCovers, filtersIntersect } from './filter-relations';
import { matchTopic } from './topic-match';
import { parseTopicFilter } from './topic-filter';

const covers = (a: string, b: string) => filterCovers(parseTopicFilter(a), parseTopicFilter(b));
const intersect = (a: string, b: string) => filtersIntersect(parseTopicFilter(a), parseTopicFilter(b));

describe('filterCovers', () => {
  it.each([
    ['a/#', 'a/+/c'],
    ['a/#', 'a'],
    ['a/#', 'a/#'],
    ['a/+', 'a/b'],
    ['a/+', 'a/{x}'],
    ['+/+', 'a/b'],
    ['+/#', '+'],
    ['a/b', 'a/b'],
    ['#', 'a/+/c'],
    ['#', '/'],
    ['#', '+/#'],
    ['#', '#'],
    ['+/#', '#'],
    ['{first}/{rest#}', '{all#}'],
    ['{all#}', 'x/{y#}'],
    ['$SYS/#', '$SYS/+'],
    ['$SYS/#', '$SYS'],
  ])('%j covers %j', (a, b) => {
    expect(covers(a, b)).toBe(true);
  });

  it.each([
    ['a/+', 'a/#'],
    ['a/+', 'a'],
    ['a/+', 'a/b/c'],
    ['a/b', 'a/+'],
    ['a/b', 'a/b/c'],
    ['a/b', 'a'],
    ['a/+/c', 'a/#'],
    ['a/#', 'b/#'],
    ['a/#', '#'],
    ['+', '+/#'],
    ['+', '#'],
    ['+/+/#', '#'],
    ['a/+/#', 'a/#'],
    ['#', '$SYS/x'],
    ['#', '$SYS/#'],
    ['+/x', '$SYS/x'],
    ['+', '$'],
    ['$SYS/+', '$SYS/#'],
  ])('%j does not cover %j', (a, b) => {
    expect(covers(a, b)).toBe(false);
  });
});

describe('filtersIntersect', () => {
  it.each([
    ['a/+/c', 'a/b/+'],
    ['a/#', 'a'],
    ['a/#', 'a/b/c'],
    ['#', 'a/b'],
    ['#', '#'],
    ['+', '+'],
    ['+/+', '/x'],
    ['+/#', 'a'],
    ['a/b', 'a/b'],
    ['$SYS/#', '$SYS/+'],
    ['$SYS/+', '$SYS/x'],
    ['{s}/x', 'a/{m#}'],
  ])('%j and %j intersect', (a, b) => {
    expect(intersect(a, b)).toBe(true);
    expect(intersect(b, a)).toBe(true);
  });

  it.each([
    ['a/b', 'a/c'],
    ['+', 'a/b'],
    ['a/+', 'a'],
    ['a/+/c', 'a/+/d'],
    ['a/b/#', 'a/c/#'],
    ['+/x', '$SYS/x'],
    ['#', '$SYS/x'],
    ['#', '$SYS/#'],
    ['{any}/#', '$x'],
    ['a', 'a/b'],
  ])('%j and %j do not intersect', (a, b) => {
    expect(intersect(a, b)).toBe(false);
    expect(intersect(b, a)).toBe(false);
  });
});

describe('relations agree with matchTopic on an exhaustive small universe', () => {
  // Every filter of up to 3 levels over these parts (optionally ending in '#') and every topic of up to
  // 4 levels over these values: enough for any counterexample to a wrong answer to show up.
  const filterLevels = ['a', 'b', '+', '$x'];
  const topicLevels = ['a', 'b', 'c', '', '$x'];

  function sequences(parts: readonly string[], maxLength: number): string[][] {
    const out: string[][] = [[]];
    for (let i = 0; i < out.length; i++) {
      if (out[i].length < maxLength) for (const p of parts) out.push([...out[i], p]);
    }
    return out;
  }

  const filters = sequences(filterLevels, 3)
    .flatMap((levels) => (levels.length === 0 ? [['#']] : [levels, [...levels, '#']]))
    .map((levels) => parseTopicFilter(levels.join('/')));
  const topics = sequences(topicLevels, 4)
    .filter((levels) => levels.length > 0)
    .map((levels) => levels.join('/'));
  const matched = filters.map((f) => topics.map((t) => matchTopic(f, t) !== null));

  it('filterCovers(a, b) holds exactly when every topic b matches is matched by a', () => {
    const wrong: string[] = [];
    filters.forEach((a, i) =>
      filters.forEach((b, j) => {
        const expected = matched[j].every((m, k) => !m || matched[i][k]);
        if (filterCovers(a, b) !== expected) wrong.push(`${a.source} covers ${b.source}: expected ${expected}`);
      }),
    );
    expect(wrong).toEqual([]);
  });

  it('filtersIntersect(a, b) holds exactly when some topic matches both', () => {
    const wrong: string[] = [];
    filters.forEach((a, i) =>
      filters.forEach((b, j) => {
        const expected = matched[j].some((m, k) => m && matched[i][k]);
        if (filtersIntersect(a, b) !== expected) wrong.push(`${a.source} ∩ ${b.source}: expected ${expected}`);
      }),
    );
    expect(wrong).toEqual([]);
  });
});
