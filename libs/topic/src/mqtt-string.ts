/** MQTT length-prefixes every UTF-8 string with two bytes (spec 1.5.4), so topics cap at 65535 bytes. */
export const MQTT_MAX_STRING_BYTES = 65535;

/** A character MQTT forbids in a UTF-8 string, located by UTF-16 index. */
export interface StringFault {
  readonly index: number;
  /** Human wording such as `the NUL character (U+0000)`. */
  readonly description: string;
}

/** Bytes `s` takes in UTF-8; an unpaired surrogate counts as the 3 bytes of its replacement character. */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (isHighSurrogate(code) && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * First character that cannot appear in an MQTT UTF-8 string: NUL (spec 1.5.4 forbids it)
 * or an unpaired surrogate (which has no UTF-8 encoding at all). Null when `s` is clean.
 */
export function findForbiddenCharacter(s: string): StringFault | null {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 0) return { index: i, description: 'the NUL character (U+0000)' };
    if (isHighSurrogate(code) && isLowSurrogate(s.charCodeAt(i + 1))) {
      i++;
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      const hex = code.toString(16).toUpperCase();
      return { index: i, description: `an unpaired surrogate (U+${hex}), which is not valid UTF-8` };
    }
  }
  return null;
}

/** 1-based number of the '/'-separated level that holds UTF-16 index `index` of `s`. */
export function levelNumberAt(s: string, index: number): number {
  let level = 1;
  for (let i = s.indexOf('/'); i !== -1 && i < index; i = s.indexOf('/', i + 1)) level++;
  return level;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// NaN past the end of the string compares false, so callers need no bounds check.
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
