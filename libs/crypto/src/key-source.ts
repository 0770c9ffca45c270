import type { KeyEntry } from './keyring';

/**
 * Where a worker's keys come from: a plain key file (PlainKeyFile) or a wrapped keystore
 * (@app/keystore). `open()` once, then `load()` whenever `fingerprint()` changes or
 * `onChange` fires, then `close()`.
 */
export interface KeySource {
  /** A path or topic, for logs. */
  describe(): string;
  open(): Promise<void>;
  /** Throws InvalidKeysError listing every problem. */
  load(): Promise<KeyEntry[]>;
  /** Changes whenever the keys may have changed; cheap enough to poll every second. */
  fingerprint(): Promise<string>;
  /** Called soon after the keys changed, where the source can tell without polling. */
  onChange?(listener: () => void): void;
  close(): Promise<void>;
}
