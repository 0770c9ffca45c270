import { quote } from './quote';

describe('quote', () => {
  it('wraps short strings in double quotes', () => {
    expect(quote('a/b')).toBe('"a/b"');
  });

  it('makes invisible characters visible', () => {
    expect(quote('a\u0000b')).toBe('"a\\u0000b"');
    expect(quote('\u007F\u0085\u009F\u00A0')).toBe('"\\u007f\\u0085\\u009f\u00A0"');
    expect(quote('\u0085'.repeat(10), 2)).toBe('"\\u0085\\u0085…" (10 characters)');
  });

  it('truncates long strings and says how long they were', () => {
    const long = 'x'.repeat(100);
    expect(quote(long, 5)).toBe('"xxxxx…" (100 characters)');
    expect(quote('abcde', 5)).toBe('"abcde"');
  });
});
