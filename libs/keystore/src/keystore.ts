import type { KeyProblem } from '@app/crypto';
import { BridgeError } from '@app/core';
import type { StoredKey } from './stored-key';

/**
 * The keys as the store's manifest (keystore.manifest.ts) vouches for them: `keys` holds only
 * entries whose exact record the manifest lists; every other entry, and every listed name that
 * has no entry, is in `problems` (one per key, path = key name).
 */
export interface KeystoreSnapshot {
  readonly keys: StoredKey[];
  readonly problems: KeyProblem[];
  /** The manifest's generation; 0 for a store written before manifests existed. */
  readonly generation: number;
}

/**
 * Where wrapped keys live. Implementations: a local file (wrapped-file.keystore.ts) and a Kafka
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
  /**
   * Every entry as stored, soft-deleted ones included, as of the latest state this process has
   * seen, unchecked: for tooling and tests. Services use snapshot().
   */
  list(): Promise<StoredKey[]>;
  /**
   * The entries the manifest vouches for. Throws KeystoreIntegrityError when the state as a
   * whole cannot be trusted (manifest older than one this process saw, missing, or forged).
   */
  snapshot(): Promise<KeystoreSnapshot>;
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
export class KeystoreConflictError extends BridgeError {
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
  }
}

/** The keystore cannot be read or written right now (file system error, Kafka unreachable). */
export class KeystoreUnavailableError extends BridgeError {
  readonly retriable = true;
  readonly code = 'keystore-unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The stored data is not a keystore we can read (bad JSON, wrong format, other master key). */
export class KeystoreCorruptError extends BridgeError {
  readonly retriable = false;
  readonly code = 'keystore-corrupt';

  constructor(message: string) {
    super(message);
  }
}

/**
 * The store as a whole fails its integrity check: a manifest older than the newest this process
 * has seen (rollback), none where one was seen before (removed), or one the master key did not
 * sign. Callers keep what they had and report it; nothing in the store is trusted meanwhile.
 */
export class KeystoreIntegrityError extends BridgeError {
  readonly retriable = false;

  constructor(
    readonly code: 'keystore-rollback' | 'keystore-manifest-missing' | 'keystore-manifest-invalid',
    message: string,
  ) {
    super(message);
  }
}
