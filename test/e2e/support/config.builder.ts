import { stringify } from 'yaml';

/** The sections of a worker configuration a test sets; anything the schema accepts. */
export interface ConfigSections {
  readonly mqtt: Record<string, unknown>;
  readonly kafka: Record<string, unknown>;
  readonly [section: string]: unknown;
}

/**
 * A worker configuration: the sections from objects (so a test states values, not YAML
 * syntax), the rules as YAML text, since they are what a test is about and read best as an
 * operator would write them (indented two spaces, as list entries).
 */
export function configYaml(sections: ConfigSections, lists: { readonly rules?: string; readonly fromKafka?: string } = {}): string {
  const parts = [stringify(sections, { lineWidth: 0 })];
  if (lists.rules !== undefined) parts.push(`rules:\n${lists.rules}`);
  if (lists.fromKafka !== undefined) parts.push(`fromKafka:\n${lists.fromKafka}`);
  return parts.join('\n');
}
