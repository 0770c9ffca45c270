import { z } from 'zod';
import { ruleSchemaSchema } from '@app/registry/rule-schema.schema';
import { processSchema } from '@app/transform';

/** A rule's `process` section: the transform stage's own fields, plus the schema of avro and protobuf payloads. */
export const ruleProcessSchema = processSchema
  .extend({
    /** The Avro or Protobuf schema of `input` or `output` (docs/schemas.md). */
    schema: ruleSchemaSchema.optional(),
  })
  .strict();

export type RuleProcessConfig = z.output<typeof ruleProcessSchema>;
