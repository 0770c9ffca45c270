interface Entry {
  done: boolean;
  /** performance.now() when the PUBLISH arrived. */
  readonly since: number;
  send?: () => void;
}

/** A place in the acknowledgement order, handed out per received QoS 1/2 PUBLISH. */
export interface AckTicket {
  readonly generation: number;
  readonly entry: Entry;
}

/**
 * Releases acknowledgements in the order the PUBLISH packets arrived (MQTT 5 section 4.6),
 * whatever order the downstream writes complete in. An acknowledgement goes out once its
 * message is done AND every earlier one has gone out. `reset()` forgets everything when
 * the connection drops: the broker redelivers those messages, and an acknowledgement for
 * the old connection must not be sent on the new one.
 */
export class AckSequencer {
  private queue: Entry[] = [];
  private head = 0;
  private generation = 0;

  /** Takes the next place in line. */
  track(): AckTicket {
    const entry: Entry = { done: false, since: performance.now() };
    this.queue.push(entry);
    return { generation: this.generation, entry };
  }

  /** The packet that acknowledges this message, to be sent when its turn comes. */
  attach(ticket: AckTicket, send: () => void): void {
    if (ticket.generation !== this.generation) return;
    ticket.entry.send = send;
    this.flush();
  }

  /** The message is handled (delivered or dead-lettered). */
  complete(ticket: AckTicket): void {
    if (ticket.generation !== this.generation) return;
    ticket.entry.done = true;
    this.flush();
  }

  /** Acknowledgements waiting for their turn or their message. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** How long the oldest acknowledgement not yet sent has waited (0 with none): what holds the ones behind it. */
  oldestPendingMs(now = performance.now()): number {
    return this.head < this.queue.length ? now - this.queue[this.head].since : 0;
  }

  reset(): void {
    this.generation++;
    this.queue = [];
    this.head = 0;
  }

  private flush(): void {
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head];
      if (!entry.done || !entry.send) break;
      this.head++;
      entry.send();
    }
    // Compact now and then rather than shift() per ack, which is O(n) on large queues.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
