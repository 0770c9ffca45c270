import { Logger } from '@nestjs/common';

/** One key operation or refused request, as written to every audit sink. Never holds key material. */
export interface AuditEvent {
  time: string;
  /** Id of the bearer token (its configured name, never its value); "-" when none was valid. */
  tokenId: string;
  action: string;
  key?: string;
  version?: number;
  /** requested: written before an export unwraps anything; ok, denied or failed: the outcome. */
  result: 'requested' | 'ok' | 'denied' | 'failed';
  /** The HTTP status the caller got. */
  status: number;
  /** Error code when the result is not ok. */
  code?: string;
  remote?: string;
}

/** Where audit lines go: a JSON-lines file, a Kafka topic. */
export interface AuditSink {
  describe(): string;
  /** Connects or opens eagerly where that can fail (start-up reports it). */
  open?(): Promise<void>;
  append(event: AuditEvent, line: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Appends every event to every sink. The operation has already happened when it is audited,
 * so a sink failure is logged loudly (with the event) rather than turned into an API error.
 */
export class AuditLog {
  private readonly log = new Logger('Audit');

  constructor(private readonly sinks: readonly AuditSink[]) {}

  async open(): Promise<void> {
    await Promise.all(this.sinks.map(async (s) => s.open?.()));
  }

  /** Appends to every sink; a failing sink is logged. Resolves false if any failed. */
  async record(event: Omit<AuditEvent, 'time'>): Promise<boolean> {
    const full: AuditEvent = { time: new Date().toISOString(), ...event };
    const line = JSON.stringify(full);
    const results = await Promise.all(
      this.sinks.map((sink) =>
        sink.append(full, line).then(
          () => true,
          (error: unknown) => {
            this.log.error(`audit sink ${sink.describe()} failed: ${error instanceof Error ? error.message : String(error)}; event: ${line}`);
            return false;
          },
        ),
      ),
    );
    return results.every(Boolean);
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close().catch(() => undefined)));
  }
}
