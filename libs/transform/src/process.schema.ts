import { z } from 'zod';
import { PAYLOAD_FORMATS } from './payload-format';

const expression = z.string().min(1, 'expected an expression');
/** Output fields by dotted path (`location.site`), each computed by an expression. */
const fieldExpressions = z.record(z.string(), expression).refine((fields) => Object.keys(fields).length > 0, 'expected at least one field');

/** The step kinds, one key each; a step entry names exactly one of them. */
export const STEP_KINDS = ['validate', 'filter', 'map', 'enrich', 'rename', 'drop'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const stepSchema = z
  .object({
    /** JSON Schema (draft 2020-12) the document must match; `schemaFile` is relative to the configuration file. */
    validate: z
      .object({ schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]).optional(), schemaFile: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** Keeps the message when the expression is true; drops it (acknowledged, counted as filtered) when false. */
    filter: expression.optional(),
    /** A new document: one expression for all of it, or fields by dotted path. */
    map: z.union([expression, fieldExpressions]).optional(),
    /** Adds or replaces fields of the document, by dotted path. */
    enrich: fieldExpressions.optional(),
    /** Moves fields: `from.path: to.path`. */
    rename: z.record(z.string(), z.string().min(1)).optional(),
    /** Removes fields by dotted path. */
    drop: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .superRefine((step, ctx) => {
    const given = STEP_KINDS.filter((kind) => step[kind] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `a step has exactly one of ${STEP_KINDS.join(', ')}${given.length > 1 ? ` (this one has ${given.join(' and ')}; make them separate steps)` : ''}`,
      });
    }
    const v = step.validate;
    if (v && (v.schema === undefined) === (v.schemaFile === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['validate'], message: 'give exactly one of schema (inline) or schemaFile' });
    }
  });

export type StepConfig = z.output<typeof stepSchema>;

/**
 * Formats written against a schema (`process.schema`, @app/registry): the transform stage
 * receives their documents decoded and hands its document over unencoded.
 */
export const SCHEMA_FORMATS = ['avro', 'protobuf'] as const;
export type SchemaFormat = (typeof SCHEMA_FORMATS)[number];

const FORMATS = [...PAYLOAD_FORMATS, ...SCHEMA_FORMATS] as const;
export type ProcessFormat = (typeof FORMATS)[number];

export function isSchemaFormat(format: ProcessFormat | undefined): format is SchemaFormat {
  return format === 'avro' || format === 'protobuf';
}

/**
 * A rule's processing between opening and sealing: decode `input`, run `steps` in order,
 * encode `output` (default: the input format; JSON after a schema format).
 */
export const processSchema = z
  .object({
    input: z.enum(FORMATS).default('json'),
    output: z.enum(FORMATS).optional(),
    steps: z.array(stepSchema).default([]),
  })
  .strict();

export type ProcessConfig = z.output<typeof processSchema>;
