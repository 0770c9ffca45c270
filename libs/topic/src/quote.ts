const DEFAULT_MAX_CHARS = 80;

/**
 * Quotes a user-written string for an error message: JSON escaping makes NUL and other
 * invisible characters readable, and truncation keeps a 64 KiB filter from flooding logs.
 */
export function quote(s: string, maxChars = DEFAULT_MAX_CHARS): string {
  if (s.length <= maxChars) return JSON.stringify(s);
  return JSON.stringify(s.slice(0, maxChars)).slice(0, -1) + `…" (${s.length} characters)`;
}
