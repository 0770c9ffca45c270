import { isSchemaFormat, ProcessFormat, SchemaFormat } from '@app/transform';
import { compileAvroSchema } from './avro.codec';
import { compileProtobufSchema } from './protobuf.codec';
import { SchemaUnavailableError } from './registry.errors';
import { RuleSchemaConfig } from './rule-schema.schema';
import { SchemaCodec, UndeclaredFields } from './schema.codec';
import { SubjectNameStrategy } from './subject-name.strategy';

/** What a rule's schema section asks for once checked; `codec` is the file's, compiled at validation. */
export type RuleSchemaPlan =
  | {
      readonly direction: 'encode';
      readonly format: SchemaFormat;
      readonly registry?: string;
      readonly codec?: SchemaCodec;
      /** The file's text, as registered or looked up. */
      readonly schemaText?: string;
      readonly register: boolean;
      readonly subject?: string;
      readonly strategy: SubjectNameStrategy;
      readonly version: number | 'latest';
      readonly message?: string;
      readonly undeclaredFields: UndeclaredFields;
    }
  | {
      readonly direction: 'decode';
      readonly format: SchemaFormat;
      readonly registry?: string;
      readonly codec?: SchemaCodec;
      readonly message?: string;
    };

export interface RuleSchemaProblem {
  /** Within the rule's process section. */
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

/** A rule's process section as far as schemas go. */
export interface SchemaProcessSection {
  readonly input: ProcessFormat;
  readonly output?: ProcessFormat;
  readonly schema?: RuleSchemaConfig;
}

/**
 * Checks a rule's schema section against its formats and the registries defined, and compiles
 * its file: every problem, located within the process section. `readFile` resolves the file
 * against the configuration file and throws an Error naming it when it cannot be read.
 */
export function planRuleSchema(
  process: SchemaProcessSection,
  registries: readonly string[],
  readFile: (file: string) => string,
): { plan?: RuleSchemaPlan; problems: RuleSchemaProblem[] } {
  const problems: RuleSchemaProblem[] = [];
  const report = (path: ReadonlyArray<string | number>, message: string) => problems.push({ path, message });
  const { input, output, schema } = process;
  if (isSchemaFormat(input) && isSchemaFormat(output)) {
    report(['output'], `input ${input} and output ${output}: a rule decodes with a schema or encodes with one, not both`);
    return { problems };
  }
  const format = isSchemaFormat(input) ? input : isSchemaFormat(output) ? output : undefined;
  if (!format) {
    if (schema) report(['schema'], 'schema applies when input or output is avro or protobuf');
    return { problems };
  }
  const direction = isSchemaFormat(input) ? 'decode' : 'encode';
  if (!schema) {
    report(['schema'], `${direction === 'decode' ? 'input' : 'output'} ${format} needs a schema section: a registry, a file, or both`);
    return { problems };
  }
  const misplaced = (field: keyof RuleSchemaConfig, why: string) => {
    if (schema[field] !== undefined) report(['schema', field], `${field} ${why}`);
  };
  if (schema.registry !== undefined && !registries.includes(schema.registry)) {
    const known = registries.length > 0 ? `defined: ${registries.join(', ')}` : 'none is defined';
    report(['schema', 'registry'], `no schema registry named ${JSON.stringify(schema.registry)} under schemaRegistries (${known})`);
  }
  if (format === 'avro') misplaced('message', 'applies to protobuf');
  if (direction === 'decode') {
    if (schema.registry !== undefined) {
      const why = "does not apply to input: each record's frame names its schema id, which the registry resolves";
      const fields = ['file', 'register', 'subject', 'subjectStrategy', 'version', ...(format === 'protobuf' ? (['message'] as const) : [])] as const;
      for (const field of fields) misplaced(field, why);
    } else {
      if (schema.file === undefined) report(['schema'], `input ${format} needs registry (Confluent-framed records) or file (bare ${format} bodies)`);
      for (const field of ['register', 'subject', 'subjectStrategy', 'version'] as const) misplaced(field, 'applies with a registry');
    }
  } else if (schema.registry === undefined) {
    if (schema.file === undefined) report(['schema'], `output ${format} needs registry (with subject or file) or file (bare ${format} bodies)`);
    for (const field of ['register', 'subject', 'subjectStrategy', 'version'] as const) misplaced(field, 'applies with a registry');
  } else if (schema.file !== undefined) {
    misplaced('version', "applies without file: with file, the registry's id of that very schema is looked up (or registered)");
  } else {
    misplaced('register', 'needs file: the schema to register');
    if (schema.subject === undefined && schema.subjectStrategy !== undefined && schema.subjectStrategy !== 'topic') {
      report(['schema', 'subjectStrategy'], `${schema.subjectStrategy} names the subject after the record, which only the schema says: give subject, or file`);
    }
  }
  const compiled = schema.file === undefined ? undefined : compileFile(format, schema, readFile, report);
  if (problems.length > 0) return { problems };
  if (direction === 'decode') return { plan: { direction, format, registry: schema.registry, codec: compiled?.codec, message: schema.message }, problems };
  return {
    plan: {
      direction,
      format,
      registry: schema.registry,
      codec: compiled?.codec,
      schemaText: compiled?.text,
      register: schema.register ?? false,
      subject: schema.subject,
      strategy: schema.subjectStrategy ?? 'topic',
      version: schema.version ?? 'latest',
      message: schema.message,
      undeclaredFields: schema.undeclaredFields,
    },
    problems,
  };
}

/** Compiles a schema text as a rule's section asks (Protobuf message, undeclared fields). */
export function compileRuleSchema(format: SchemaFormat, text: string, options: { message?: string; undeclaredFields?: UndeclaredFields }): SchemaCodec {
  return format === 'avro'
    ? compileAvroSchema(text, { undeclaredFields: options.undeclaredFields })
    : compileProtobufSchema(text, { messageName: options.message, undeclaredFields: options.undeclaredFields });
}

function compileFile(
  format: SchemaFormat,
  schema: RuleSchemaConfig,
  readFile: (file: string) => string,
  report: (path: ReadonlyArray<string | number>, message: string) => void,
): { codec: SchemaCodec; text: string } | undefined {
  let text: string;
  try {
    text = readFile(schema.file!);
  } catch (error) {
    report(['schema', 'file'], (error as Error).message);
    return undefined;
  }
  try {
    return { codec: compileRuleSchema(format, text, schema), text };
  } catch (error) {
    if (!(error instanceof SchemaUnavailableError)) throw error;
    report(['schema', 'file'], `${schema.file}: ${error.message}`);
    return undefined;
  }
}
