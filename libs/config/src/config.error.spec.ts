import { ConfigError, ConfigProblem, formatPath, MAX_LISTED_PROBLEMS } from './config.error';

const problem = (line: number): ConfigProblem => ({ file: 'bridge.yaml', line, column: 1, path: '', message: `problem ${line}` });

describe('ConfigError', () => {
  it('lists every problem when there are few', () => {
    const error = new ConfigError([problem(1), problem(2)]);
    expect(error.message).toBe('invalid configuration (2 problems):\n  bridge.yaml:1:1: problem 1\n  bridge.yaml:2:1: problem 2');
    expect(error.omitted).toBe(0);
  });

  it(`keeps the first ${MAX_LISTED_PROBLEMS} and counts the rest, so garbage gives one short error`, () => {
    const error = new ConfigError(Array.from({ length: 5000 }, (_, i) => problem(i + 1)));
    expect(MAX_LISTED_PROBLEMS).toBe(20);
    expect(error.problems.map((p) => p.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(error.omitted).toBe(4980);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[0]).toBe('invalid configuration (5000 problems):');
    expect(lines[20]).toBe('  bridge.yaml:20:1: problem 20');
    expect(lines[21]).toBe('  ... and 4980 more');
  });
});

describe('formatPath', () => {
  it('joins keys with dots and indexes with brackets', () => {
    expect(formatPath(['rules', 2, 'filters', 0])).toBe('rules[2].filters[0]');
  });

  it('shortens a key longer than 80 characters, which only a broken file has', () => {
    expect(formatPath(['mqtt', 'k'.repeat(1_000_000)])).toBe(`mqtt.${'k'.repeat(80)}… (1000000 characters)`);
  });
});
