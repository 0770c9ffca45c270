import { CryptoError, decodeEnvelope } from '@app/crypto';

const EXCERPT_BYTES = 16;

/**
 * An envelope as an operator would want to glance at it: its size, the header fields anyone
 * can read (which key, which version) and the first bytes of the ciphertext body.
 */
export function ciphertextExcerpt(bytes: Uint8Array): string {
  try {
    const { header, body } = decodeEnvelope(bytes);
    const binding = header.topicBound ? ', topic-bound' : '';
    return `${bytes.length} B envelope (key ${header.keyName} v${header.keyVersion}, ${header.algorithm}${binding}) ${hex(body)}`;
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    return `${bytes.length} B, not an envelope: ${hex(bytes)}`;
  }
}

function hex(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, EXCERPT_BYTES)).toString('hex');
  return bytes.length > EXCERPT_BYTES ? `${head}…` : head;
}
