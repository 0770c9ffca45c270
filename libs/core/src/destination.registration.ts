import { z } from 'zod';
import { Destination } from './destination';

/** A path within a rule's destination entry, e.g. `['headers', 'site']`. */
export type EntryPath = ReadonlyArray<string | number>;

/**
 * What validation needs of a destination type: the schema of its rule entry (its `type`
 * literal included), the entry's template fields and any checks beyond the schema. Kept in the
 * lib's schema module, which loads no broker client, so validating a configuration (the admin
 * service, `bridge validate`) does not load MQTT.js, amqplib or nats.
 */
export interface DestinationSpec<S extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly type: string;
  readonly schema: S;
  /** The template fields of an entry, as [path within the entry, template], compiled at validation. */
  templates(config: z.output<S>): Array<[EntryPath, string]>;
  /** Entry-level checks beyond the schema, as [path within the entry, problem]. */
  check?(config: z.output<S>): Array<[EntryPath, string]>;
}

/**
 * A destination type ready to build: its spec and its constructor. Each transport lib exports
 * one beside its destination; the worker's factory lists them. `R` is what the constructor
 * needs of the worker's shared resources (a Kafka writer, a client factory).
 */
export interface DestinationRegistration<S extends z.ZodTypeAny = z.ZodTypeAny, R = unknown> extends DestinationSpec<S> {
  create(config: z.output<S>, name: string, captures: readonly string[], resources: R): Destination;
}

/** The template fields every `headers` map of templates contributes. */
export function headerTemplates(headers: Readonly<Record<string, string>>): Array<[EntryPath, string]> {
  return Object.entries(headers).map(([name, value]): [EntryPath, string] => [['headers', name], value]);
}
