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
 * First character that cannot appear in an MQTT UTF-8 string: NUL (spec 1.5.4 forbids it), an
 * unpaired surrogate (which has no UTF-8 encoding at all), a control character or a Unicode
 * non-character. The spec only says a string SHOULD NOT hold the last two, but lets a receiver
 * treat them as malformed, and Mosquitto does: it closes the connection, which the client sees as
 * an endless reconnect or a bare "Connection closed". Null when `s` is clean.
 */
export function findForbiddenCharacter(s: string): StringFault | null {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 0) return { index: i, description: 'the NUL character (U+0000)' };
    if (isControl(code)) return { index: i, description: `the control character ${codePoint(code)}` };
    if (isHighSurrogate(code) && isLowSurrogate(s.charCodeAt(i + 1))) {
      const astral = s.codePointAt(i)!;
      if (isNonCharacter(astral)) return { index: i, description: `the Unicode non-character ${codePoint(astral)}` };
      i++;
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      return { index: i, description: `an unpaired surrogate (${codePoint(code)}), which is not valid UTF-8` };
    } else if (isNonCharacter(code)) {
      return { index: i, description: `the Unicode non-character ${codePoint(code)}` };
    }
  }
  return null;
}

/** Why `s` is too long for an MQTT string, naming it `noun` ("the filter"); null when it fits. */
export function byteLengthProblem(s: string, noun: string): string | null {
  // Most strings are far below the limit in characters, so the byte count is rarely needed.
  if (s.length * 3 <= MQTT_MAX_STRING_BYTES) return null;
  const bytes = utf8ByteLength(s);
  return bytes > MQTT_MAX_STRING_BYTES ? `${noun} is ${bytes} UTF-8 bytes long; MQTT allows at most ${MQTT_MAX_STRING_BYTES}` : null;
}

/**
 * Why `s` cannot be sent as an MQTT UTF-8 string (a client id, a user name), naming it `noun`;
 * null when it can. Positions count characters from 1, as an editor does.
 */
export function mqttStringProblem(s: string, noun: string): string | null {
  const tooLong = byteLengthProblem(s, noun);
  if (tooLong) return tooLong;
  const fault = findForbiddenCharacter(s);
  if (!fault) return null;
  return `${noun} contains ${fault.description} at character ${Array.from(s.slice(0, fault.index)).length + 1}`;
}

/** 1-based number of the '/'-separated level that holds UTF-16 index `index` of `s`. */
export function levelNumberAt(s: string, index: number): number {
  let level = 1;
  for (let i = s.indexOf('/'); i !== -1 && i < index; i = s.indexOf('/', i + 1)) level++;
  return level;
}

// C0 controls, DEL and C1 controls.
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

// U+FDD0..U+FDEF and the last two code points of every plane.
function isNonCharacter(code: number): boolean {
  return (code >= 0xfdd0 && code <= 0xfdef) || (code & 0xfffe) === 0xfffe;
}

function codePoint(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// NaN past the end of the string compares false, so callers need no bounds check.
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
