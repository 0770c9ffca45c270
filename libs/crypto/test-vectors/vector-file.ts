/** Shape of envelope-v1.json. Byte fields are lowercase hex; names and topics are plain strings. */
export interface PositiveVector {
  description: string;
  algorithm: 'xchacha20poly1305' | 'sealedbox';
  keyName: string;
  keyVersion: number;
  /** xchacha20poly1305: the 32-byte key. */
  key?: string;
  /** sealedbox: the recipient's X25519 key pair. */
  secretKey?: string;
  publicKey?: string;
  /** xchacha20poly1305: the 24-byte nonce used. */
  nonce?: string;
  /** UTF-8 topic the envelope is bound to, or null when unbound. */
  topic: string | null;
  plaintext: string;
  envelope: string;
}

/** Opened with the keys of every positive vector; must fail with `expectedError`. */
export interface NegativeVector {
  description: string;
  envelope: string;
  topic: string;
  /** Defaults to false. */
  requireTopicBinding?: boolean;
  expectedError: string;
}

export interface VectorFile {
  format: string;
  notes: string[];
  vectors: PositiveVector[];
  negative: NegativeVector[];
}
