import { Logger } from '@nestjs/common';

/** One key operation or refused request, as written to every audit sink. Never holds key material. */
export interface AuditEvent {
  time: string;
  /** Id of the bearer token (its configured name, never its value); "-" when none was valid. */
  tokenId: string;
  action: string;
  key?: string;
  version?: number;
  result: 'ok' | 'denied' | 'failed';
  /** The HTTP status the caller got. */
  status: number;
  /** Error code when the result is not ok. */
  code?: string;
  remote?: string;
}

/** Where audit lines go: a JSON-lines file, a Kafka topic. */
export interface AuditSink {
  describe(): string;
  append(event: AuditEvent, line: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Appends every event to every sink. The operation has already happened when it is audited,
 * so a sink failure is logged loudly (and counted) rather than turned into an API error.
 */
export class AuditLog {
  private readonly log = new Logger('Audit');
  private failures = 0;

  constructor(private readonly sinks: readonly AuditSink[]) {}

  async record(event: Omit<AuditEvent, 'time'>): Promise<void> {
    const full: AuditEvent = { time: new Date().toISOString(), ...event };
    const line = JSON.stringify(full);
    await Promise.all(
      this.sinks.map((sink) =>
        sink.append(full, line).catch((error: unknown) => {
          this.failures++;
          this.log.error(`audit sink ${sink.describe()} failed: ${error instanceof Error ? error.message : String(error)}; event: ${line}`);
        }),
      ),
    );
  }

  /** Writes that failed since start; exposed so operators can alert on it. */
  failedWrites(): number {
    return this.failures;
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close().catch(() => undefined)));
  }
}
