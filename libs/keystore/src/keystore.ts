import type { StoredKey } from './stored-key';

/**
 * Where wrapped keys live. Implementations: a local file (file.keystore.ts) and a Kafka
 * compacted topic (kafka.keystore.ts), picked by `type` from keystore.registry.ts.
 *
 * Lifecycle: `open()` once (connects, reads the current state), then any number of reads and
 * writes, then `close()`. Writes are all-or-nothing and durable when they resolve, and a
 * following `list()` in the same process sees them.
 */
export interface Keystore {
  /** Human-readable location for logs and errors (a path, a topic). */
  describe(): string;
  open(): Promise<void>;
  /** Every key, soft-deleted ones included, as of the latest state this process has seen. */
  list(): Promise<StoredKey[]>;
  /**
   * Writes one key. `expectedRevision` is the revision the caller changed, 0 when creating:
   * on a mismatch nothing is written and KeystoreConflictError is thrown.
   */
  put(key: StoredKey, expectedRevision: number): Promise<void>;
  /** Removes a key for good (purge), with the same revision check. */
  remove(name: string, expectedRevision: number): Promise<void>;
  /** Changes whenever the stored keys change; cheap enough to poll every second. */
  fingerprint(): Promise<string>;
  /** Calls `listener` soon after another process changed the keys, where the store can tell. */
  onChange?(listener: () => void): void;
  close(): Promise<void>;
}

/** A write based on a stale revision: somebody else changed the key first. */
export class KeystoreConflictError extends Error {
  readonly retriable = false;
  readonly code = 'keystore-conflict';

  constructor(
    readonly keyName: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      actual === 0
        ? `key "${keyName}" does not exist (expected revision ${expected})`
        : expected === 0
          ? `key "${keyName}" already exists`
          : `key "${keyName}" changed meanwhile: revision ${actual}, expected ${expected}`,
    );
    this.name = 'KeystoreConflictError';
  }
}

/** The keystore cannot be read or written right now (file system error, Kafka unreachable). */
export class KeystoreUnavailableError extends Error {
  readonly retriable = true;
  readonly code = 'keystore-unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeystoreUnavailableError';
  }
}

/** The stored data is not a keystore we can read (bad JSON, wrong format, other master key). */
export class KeystoreCorruptError extends Error {
  readonly retriable = false;
  readonly code = 'keystore-corrupt';

  constructor(message: string) {
    super(message);
    this.name = 'KeystoreCorruptError';
  }
}
