import { Logger } from '@nestjs/common';
import { BridgeMessage, classify, ClassifiedFailure, DeliveryFailedError, nextDelay, RetryPolicy, ShutdownError } from '@app/core';
import { KafkaWriter, mqttHeaders } from '@app/kafka';

/** Headers of a dead-letter record, on top of the `mqtt.*` ones; documented in the README. */
export const DLQ_HEADER = {
  reason: 'bridge.dlq.reason',
  message: 'bridge.dlq.message',
  destination: 'bridge.dlq.destination',
  failureClass: 'bridge.dlq.class',
  attempts: 'bridge.dlq.attempts',
  firstFailureAt: 'bridge.dlq.first-failure-at',
  lastFailureAt: 'bridge.dlq.last-failure-at',
} as const;

export interface DeadLetter {
  readonly message: BridgeMessage;
  readonly rule: string;
  readonly destination: string;
  readonly failure: ClassifiedFailure;
  readonly topic: string;
}

/**
 * Writes what could not be delivered to a Kafka dead-letter topic, with the original
 * payload bytes untouched. A dead letter is the last stop: if its own write fails it is
 * retried until it succeeds or the bridge shuts down (then the MQTT message stays
 * unacknowledged and comes back).
 */
export class DeadLetterWriter {
  private readonly log = new Logger(DeadLetterWriter.name);
  private closing = false;

  constructor(
    private readonly writer: KafkaWriter,
    private readonly retry: RetryPolicy,
  ) {}

  async write(letter: DeadLetter): Promise<void> {
    const { failure } = letter;
    const now = new Date();
    const tried = failure instanceof DeliveryFailedError ? failure : undefined;
    const headers = {
      ...mqttHeaders(letter.message, letter.rule),
      [DLQ_HEADER.reason]: failure.code,
      [DLQ_HEADER.message]: failure.message,
      [DLQ_HEADER.failureClass]: failure.retriable ? 'transient' : 'permanent',
      [DLQ_HEADER.destination]: letter.destination,
      [DLQ_HEADER.attempts]: String(tried?.attempts ?? 1),
      [DLQ_HEADER.firstFailureAt]: (tried?.firstFailureAt ?? now).toISOString(),
      [DLQ_HEADER.lastFailureAt]: (tried?.lastFailureAt ?? now).toISOString(),
    };
    const record = { topic: letter.topic, key: letter.message.topic, value: letter.message.payload, headers, rule: letter.rule };
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.writer.write(record, { acks: 'all', idempotent: true });
        return;
      } catch (error) {
        if (this.closing || error instanceof ShutdownError) throw error;
        const failure = classify(error);
        const delay = nextDelay({ ...this.retry, maxAttempts: 0, maxElapsedMs: 0 }, attempt, Date.now() - started);
        this.log.error(
          `dead-letter write to ${letter.topic} failed (${failure.code}, attempt ${attempt}); message on ${letter.message.topic} stays unacknowledged, retrying in ${delay} ms`,
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  close(): void {
    this.closing = true;
  }
}
