import type { ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { bridgeConfigSchema } from './bridge-config.schema';
import { allowUntypedKafkaDeadLetters } from './bridge-config.json-schema';

/*
 * docs/configuration-reference.md: every field of the configuration with its type, whether it
 * is required, its default and its allowed values, generated from bridgeConfigSchema (through
 * its JSON Schema, refs inlined) so it cannot drift from what validation accepts. The prose
 * (what a field is for) stays in configuration.md and the pages it points to.
 */

type Json = { [key: string]: unknown };
interface Row {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly constraints: string;
}

const toJsonSchema = zodToJsonSchema as unknown as (schema: ZodTypeAny, options: Record<string, unknown>) => unknown;

/** The reference page's text, as `npm run config-schema` writes it. */
export function renderConfigReference(): string {
  const schema = toJsonSchema(bridgeConfigSchema, { target: 'jsonSchema7', effectStrategy: 'input', pipeStrategy: 'input', $refStrategy: 'none' }) as Json;
  allowUntypedKafkaDeadLetters(schema);
  const sections = Object.entries(schema.properties as Json).map(([name, node]) => {
    const rows: Row[] = [];
    walk(node as Json, name, isRequired(schema, name), rows);
    return `## \`${name}\`\n\n| field | type | required | default | allowed |\n| --- | --- | --- | --- | --- |\n${rows.map(formatRow).join('\n')}\n`;
  });
  return [
    '# Configuration reference',
    '',
    'Generated from the configuration schema by `npm run config-schema`; do not edit. Every field, its',
    'type, whether it must be given, its default and the values it accepts. What each field is for:',
    '[configuration.md](configuration.md) and the pages it links. `bridge validate` checks more than',
    'this table (topic filters, templates, expressions, keys, loops). `[]` is an element of a list,',
    '`{name}` a key of a map, and `(type: x)` the fields of one kind of entry.',
    '',
    ...sections,
  ].join('\n');
}

function isRequired(parent: Json, field: string): boolean {
  return Array.isArray(parent.required) && parent.required.includes(field);
}

function walk(node: Json, path: string, required: boolean, rows: Row[]): void {
  const variants = (node.anyOf ?? node.oneOf) as Json[] | undefined;
  if (variants && variants.every((v) => v.type === 'object' && (v.properties as Json | undefined)?.type)) {
    rows.push({ path, type: 'object (one of the kinds below)', required, default: node.default, constraints: '' });
    for (const variant of variants) {
      const kind = ((variant.properties as Json).type as Json).const;
      walkObject(variant, `${path} (type: ${String(kind)})`, rows);
    }
    return;
  }
  rows.push({ path, type: typeOf(node), required, default: node.default, constraints: constraintsOf(node) });
  if (node.type === 'object' && node.properties) walkObject(node, path, rows);
  else if (node.type === 'array' && node.items && hasFields(node.items as Json)) walk(node.items as Json, `${path}[]`, true, rows);
  else if (node.type === 'object' && typeof node.additionalProperties === 'object' && (node.additionalProperties as Json).type === 'object') {
    walk(node.additionalProperties as Json, `${path}.{name}`, true, rows);
  }
}

/** An object schema, or a union of them (descended into), as opposed to a scalar. */
function hasFields(node: Json): boolean {
  const variants = (node.anyOf ?? node.oneOf) as Json[] | undefined;
  return node.type === 'object' || (variants !== undefined && variants.every((v) => v.type === 'object'));
}

function walkObject(node: Json, path: string, rows: Row[]): void {
  for (const [field, child] of Object.entries((node.properties as Json) ?? {})) walk(child as Json, `${path}.${field}`, isRequired(node, field), rows);
}

function typeOf(node: Json): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.anyOf)) return [...new Set((node.anyOf as Json[]).map(typeOf))].join(' or ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items as Json) : 'values'}`;
  if (node.type === 'object' && !node.properties && node.additionalProperties) {
    return typeof node.additionalProperties === 'object' ? `map of ${typeOf(node.additionalProperties as Json)}` : 'map';
  }
  if (Array.isArray(node.type)) return node.type.join(' or ');
  return typeof node.type === 'string' ? node.type : 'any';
}

function constraintsOf(node: Json): string {
  const parts: string[] = [];
  if (Array.isArray(node.enum)) parts.push(node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', '));
  if (node.minimum !== undefined) parts.push(`≥ ${String(node.minimum)}`);
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${String(node.exclusiveMinimum)}`);
  if (node.maximum !== undefined) parts.push(`≤ ${String(node.maximum)}`);
  if (node.minLength === 1) parts.push('not empty');
  else if (typeof node.minLength === 'number' && node.minLength > 1) parts.push(`at least ${node.minLength} characters`);
  if (node.maxLength !== undefined) parts.push(`at most ${String(node.maxLength)} characters`);
  if (node.minItems === 1) parts.push('at least one entry');
  else if (typeof node.minItems === 'number' && node.minItems > 1) parts.push(`at least ${node.minItems} entries`);
  if (typeof node.pattern === 'string') parts.push(`matches \`${node.pattern.replace(/\|/g, '\\|')}\``);
  return parts.join('; ');
}

function formatRow(row: Row): string {
  const shown = row.default === undefined ? '' : `\`${JSON.stringify(row.default).replace(/\|/g, '\\|')}\``;
  return `| \`${row.path}\` | ${row.type.replace(/\|/g, '\\|')} | ${row.required && row.default === undefined ? 'yes' : ''} | ${shown} | ${row.constraints} |`;
}
