import type { TemplateContext } from '@app/topic';
import { BridgeMessage } from './bridge-message';

/** What a rule hands to a destination: the message plus everything the rule derived from it. */
export interface OutboundRecord {
  readonly message: BridgeMessage;
  readonly rule: string;
  /** What the destination's templates render from (topic levels, captures, QoS, rule). */
  readonly context: TemplateContext;
  /**
   * The payload to write to `address` (the destination's rendered topic): the original bytes,
   * the decrypted ones, or an envelope sealed for and bound to that address. May throw a
   * typed non-retriable error (the record is then dead-lettered).
   */
  payload(address: string): Buffer;
  /** Headers added by the rule's transform, on top of those the destination derives itself. */
  readonly headers: Readonly<Record<string, string | Buffer>>;
}

/**
 * The lifecycle every destination implements.
 *
 * - `connect()` is called once before the first write; it rejects when the destination
 *   cannot be reached at start-up.
 * - `write(record)` resolves only once the destination has durably confirmed the record
 *   (as durable as the record's delivery settings ask). It rejects with a typed
 *   `BridgeError`: `retriable` tells the caller whether writing again can help. Records
 *   written to one destination for the same address are confirmed in the order written.
 * - `describe(record)` says where `write` would put the record, without writing (dry runs);
 *   it throws what `write` would throw for a record that cannot be addressed.
 * - `close()` releases connections; callers let writes in flight finish first (the worker
 *   drains). A write still waiting for its broker at close may end with a ShutdownError (the
 *   message stays unacknowledged, or its Kafka offset uncommitted). Writes after close reject.
 */
export interface Destination {
  readonly name: string;
  connect(): Promise<void>;
  write(record: OutboundRecord): Promise<void>;
  describe(record: OutboundRecord): string;
  close(): Promise<void>;
}
