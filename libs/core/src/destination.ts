import { BridgeMessage } from './bridge-message';
import type { TemplateContext } from './template-context';

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

/** A header value as a destination sends it (AMQP headers may be numbers or booleans). */
export type PreviewHeaderValue = string | number | boolean | Buffer | ReadonlyArray<string | Buffer>;

/** Where and how a destination would write a record, without writing it. */
export interface DestinationPreview {
  /** One line for people, e.g. `kafka topic telemetry.lyon key d1`. */
  readonly summary: string;
  /**
   * The address the payload is written to and bound to when sealed: the Kafka or MQTT topic,
   * the NATS subject, or `exchange/routingKey` for AMQP.
   */
  readonly address: string;
  /** The Kafka record key (null: none); absent for destinations without keys. */
  readonly key?: string | null;
  /** Everything sent beside the payload: Kafka, AMQP or NATS headers, MQTT 5 user properties. */
  readonly headers: Readonly<Record<string, PreviewHeaderValue>>;
}

/**
 * The lifecycle every destination implements.
 *
 * - `connect()` is called once before the first write. A destination that is not needed to
 *   start (every one but Kafka) resolves at once and connects in the background, retrying
 *   (BackgroundLink): a worker starts while a secondary broker is down, and writes issued
 *   meanwhile wait as during any outage, bounded by the destination's retry policy and by
 *   `close()`. Kafka's writer is connected by the worker, which needs it to start.
 * - `write(record)` resolves only once the destination has durably confirmed the record
 *   (as durable as the record's delivery settings ask). It rejects with a typed
 *   `BridgeError`: `retriable` tells the caller whether writing again can help. Records
 *   written to one destination for the same address are confirmed in the order written.
 * - `describe(record)` says where and how `write` would put the record, without writing (dry
 *   runs, `bridge test`): computed by the same code as `write`'s addressing and headers, so
 *   the two cannot disagree. It throws what `write` would throw for a record that cannot be
 *   addressed.
 * - `close()` releases connections; callers let writes in flight finish first (the worker
 *   drains). A write still waiting for its broker at close, including one between retries,
 *   ends promptly with a ShutdownError (the message stays unacknowledged, or its Kafka offset
 *   uncommitted); a write after close rejects with a ShutdownError. The shared contract spec
 *   (testing/destination.contract.ts) checks this for every destination type.
 * - `up`, when a destination has it, says whether its connection is open now (per-destination
 *   health); a destination without it is up whenever its writes can succeed.
 */
export interface Destination {
  readonly name: string;
  readonly up?: boolean;
  connect(): Promise<void>;
  write(record: OutboundRecord): Promise<void>;
  describe(record: OutboundRecord): DestinationPreview;
  close(): Promise<void>;
}
