import { parseDocument } from 'yaml';
import { findDuplicateKeys } from './yaml-duplicate-keys';

function duplicates(text: string): Array<{ key: string; at: string; first: string }> {
  return findDuplicateKeys(parseDocument(text, { uniqueKeys: false }).contents).map((d) => ({
    key: d.key,
    at: text.slice(d.offset, d.offset + 4),
    first: text.slice(d.firstOffset, d.firstOffset + 4),
  }));
}

describe('findDuplicateKeys', () => {
  it('finds nothing in a map of distinct keys, or with the same key in different maps', () => {
    expect(duplicates('a: 1\nb: { a: 1 }\nc: [{ a: 1 }, { a: 2 }]')).toEqual([]);
  });

  it('finds every repeat, in text order, with its first occurrence', () => {
    expect(duplicates('a: 1\nb: [{ x: 1, x: 2 }]\na: 3\na: 4')).toEqual([
      { key: 'x', at: 'x: 2', first: 'x: 1' },
      { key: 'a', at: 'a: 3', first: 'a: 1' },
      { key: 'a', at: 'a: 4', first: 'a: 1' },
    ]);
  });

  it('compares typed values, as YAML does: 1 and "1" differ, 1 and 0x1 do not', () => {
    expect(duplicates('1: a\n"1": b\n0x1: c')).toEqual([{ key: '1', at: '0x1:', first: '1: a' }]);
  });
});
