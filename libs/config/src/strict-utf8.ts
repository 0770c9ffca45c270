/** Where a text stops being UTF-8: the first byte of the first ill-formed sequence. */
export interface InvalidUtf8 {
  /** 0-based byte offset in the file. */
  readonly offset: number;
  readonly byte: number;
  /** 1-based line; lines end at "\n", as in the YAML positions. */
  readonly line: number;
  /** 1-based, in UTF-16 units of the decoded line, as in the YAML positions. */
  readonly column: number;
}

// ignoreBOM keeps a leading BOM in the text, as readFileSync(file, 'utf8') did, so YAML
// positions do not move.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8 without substituting anything: a Latin-1 "é" or a binary file must be refused
 * where it is, not silently turned into U+FFFD inside a topic or a client id.
 */
export function decodeStrictUtf8(bytes: Uint8Array): { readonly text: string } | { readonly invalid: InvalidUtf8 } {
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    // The decoder does not say where it failed; find it ourselves, only on this rare path.
  }
  const offset = firstInvalidUtf8(bytes);
  if (offset === -1) throw new Error('TextDecoder refused bytes that firstInvalidUtf8 accepts');
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const column = decoder.decode(bytes.subarray(lineStart, offset)).length + 1;
  return { invalid: { offset, byte: bytes[offset], line, column } };
}

/**
 * Byte offset where the first ill-formed UTF-8 sequence starts (Unicode table 3-7: no overlong
 * forms, no surrogates, nothing past U+10FFFF, no truncated sequence), or -1 when there is none.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = sequenceLength(lead);
    if (length === 0 || i + length > bytes.length) return i;
    const [low, high] = secondByteRange(lead);
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (let k = 2; k < length; k++) {
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return -1;
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// The second byte is where overlong forms, surrogates and code points past U+10FFFF show.
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}
