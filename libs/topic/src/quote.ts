const DEFAULT_MAX_CHARS = 80;

/**
 * Quotes a user-written string for an error message: JSON escaping makes NUL and other
 * invisible characters readable, and truncation keeps a 64 KiB filter from flooding logs.
 */
export function quote(s: string, maxChars = DEFAULT_MAX_CHARS): string {
  if (s.length <= maxChars) return escapeInvisible(JSON.stringify(s));
  return escapeInvisible(JSON.stringify(s.slice(0, maxChars)).slice(0, -1)) + `…" (${s.length} characters)`;
}

// JSON escapes only U+0000..U+001F; DEL and the C1 controls would print as nothing (or worse).
function escapeInvisible(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
