// The contract between whoever builds a message's context (the pipeline, the Kafka rule
// runner) and whatever renders templates from it (@app/topic); here so that destinations,
// which receive it, need nothing but @app/core.

/**
 * What a template compiled for Kafka records (`'kafka-record'`) reads from one record. Values
 * are decoded as UTF-8; only the first value of a repeated header counts.
 */
export interface RecordFields {
  readonly kafkaTopic: string;
  readonly partition: number;
  /** Null when the record has no key. */
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The record value parsed as JSON, undefined when it is not JSON (the caller caches the parse). */
  json(): unknown;
}

/** What a template may read from one message. */
export interface TemplateContext {
  readonly topic: string;
  /** The topic split on '/', computed once per message by the caller. */
  readonly levels: readonly string[];
  readonly captures: Readonly<Record<string, string>>;
  readonly qos: number;
  readonly rule: string;
  readonly clientId: string;
  /** The Kafka record, for templates compiled for `'kafka-record'`. */
  readonly record?: RecordFields;
  /** The payload as the rule's process section left it, for `{payload.PATH}`. */
  readonly document?: unknown;
}
