import type { ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { bridgeConfigSchema } from './bridge-config.schema';

/*
 * The JSON Schema of the bridge's YAML configuration, generated from bridgeConfigSchema (zod)
 * with zod-to-json-schema; `npm run config-schema` writes it to docs/bridge-config.schema.json.
 * It describes what a file may contain before `bridge validate` runs its own checks: the
 * fields, types, enums, ranges and defaults, not the checks written as code (topic filters,
 * templates, key names, loops). Since `${NAME}` is substituted before validation, any scalar
 * value may also be a string containing `${`.
 */

type Json = { [key: string]: unknown };

/** zodToJsonSchema, typed loosely: its generic types are too deep for the full config schema (TS2589). */
const toJsonSchema = zodToJsonSchema as unknown as (schema: ZodTypeAny, options: Record<string, unknown>) => unknown;

/** The schema file's text, as `npm run config-schema` writes it. */
export function renderConfigSchema(): string {
  const schema = toJsonSchema(bridgeConfigSchema, {
    name: 'BridgeConfig',
    target: 'jsonSchema7',
    // A config file is the schema's input: fields with a default may be left out.
    effectStrategy: 'input',
    pipeStrategy: 'input',
  }) as Json;
  schema.title = 'mqtt-kafka-bridge configuration';
  schema.description =
    'Generated from bridgeConfigSchema by `npm run config-schema`; do not edit. `bridge validate` checks more than this schema (docs/configuration.md).';
  allowUntypedKafkaDeadLetters(schema);
  allowSubstitutions(schema);
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/**
 * deadLetterSchema fills in `type: kafka` before parsing (z.preprocess), which zod-to-json-schema
 * cannot see: its Kafka branch would require `type`, and `deadLetter: { topic: x }` would be
 * flagged. Drop `type` from that branch's required fields wherever the dead-letter union appears.
 */
export function allowUntypedKafkaDeadLetters(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(allowUntypedKafkaDeadLetters);
  if (node === null || typeof node !== 'object') return;
  const object = node as Json;
  const properties = object.properties as Json | undefined;
  const type = properties?.type as Json | undefined;
  if (type?.const === 'kafka' && Array.isArray(object.required) && isDeadLetterBranch(properties!)) {
    object.required = object.required.filter((field) => field !== 'type');
  }
  Object.values(object).forEach(allowUntypedKafkaDeadLetters);
}

/** The Kafka dead-letter branch is exactly { type, topic } (Kafka destinations have more fields). */
function isDeadLetterBranch(properties: Json): boolean {
  return Object.keys(properties).sort().join(',') === 'topic,type';
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

/** Matches a value with a `${NAME}` or `${NAME:-default}` substitution, which the loader replaces before validating. */
const SUBSTITUTION = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}' };

/**
 * Lets every scalar field (but the `type` discriminators, which stay literal so editors can
 * complete them) be written as a substitution, e.g. `url: ${MQTT_URL}` or `protocolVersion: ${V:-5}`.
 * Each scalar schema `S` becomes `{ anyOf: [S, substitution] }` in place, so `$ref`s to it still hold.
 */
function allowSubstitutions(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(allowSubstitutions);
  if (node === null || typeof node !== 'object') return;
  const object = node as Json;
  for (const value of Object.values(object)) allowSubstitutions(value);
  if (typeof object.type !== 'string' || !SCALAR_TYPES.has(object.type) || 'const' in object) return;
  const { default: defaultValue, ...scalar } = object;
  for (const key of Object.keys(object)) delete object[key];
  object.anyOf = [scalar, SUBSTITUTION];
  if (defaultValue !== undefined) object.default = defaultValue;
}
