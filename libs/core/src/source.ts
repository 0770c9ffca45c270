import { BridgeMessage } from './bridge-message';

/** A message handed over by a source, with the acknowledgement the source is waiting for. */
export interface Inbound {
  readonly message: BridgeMessage;
  /**
   * The subscriptions this copy was delivered for (MQTT 5 subscription identifiers),
   * or undefined when the source cannot tell.
   */
  readonly subscriptionIds?: readonly number[];
  /**
   * Confirms the message is safely handled (delivered or dead-lettered). The source
   * acknowledges upstream in arrival order, so one slow message holds back the
   * acknowledgements that follow it, never the work on them. Calling it twice is harmless.
   */
  ack(): void;
}

/**
 * The lifecycle every source implements: `connect(handler)` starts delivery to the
 * handler (and resolves once subscribed), `close()` stops intake and releases the
 * connection; messages not acknowledged by then are redelivered by the upstream broker.
 */
export interface Source {
  readonly name: string;
  connect(handler: (inbound: Inbound) => void): Promise<void>;
  close(): Promise<void>;
}
