import { z } from 'zod';
import { SUBJECT_NAME_STRATEGIES } from './subject-name.strategy';

/**
 * A rule's `process.schema`: the Avro or Protobuf schema its `output` is encoded with (or its
 * `input` decoded with), from a file, from a registry, or both (a file registered or looked up
 * in the registry). Which fields apply depends on the direction; `planRuleSchema` says which
 * combination is wrong, and why.
 */
export const ruleSchemaSchema = z
  .object({
    /** A name under `schemaRegistries`. Without it, records are bare Avro or Protobuf bodies (no Confluent frame). */
    registry: z.string().min(1).optional(),
    /** `.avsc` (Avro JSON) or `.proto` file, relative to the configuration file. */
    file: z.string().min(1).optional(),
    /** With `file` and `registry`: register the file's schema under the subject on first use (else it must already be there). */
    register: z.boolean().optional(),
    /** The subject, given whole; else named by `subjectStrategy`. */
    subject: z.string().min(1).optional(),
    /** `topic` (`<destination topic>-value`, the default), `record` (the record's full name), `topic-record`. */
    subjectStrategy: z.enum(SUBJECT_NAME_STRATEGIES).optional(),
    /** Without `file`: the subject's version to write with, a number or `latest` (the default). */
    version: z.union([z.literal('latest'), z.number().int().min(1)]).optional(),
    /** Protobuf: the message type to write (full name or relative to the package); default the file's first. */
    message: z.string().min(1).optional(),
    /** Document fields the schema does not declare: `refuse` (schema-invalid, the default) or `drop`. */
    undeclaredFields: z.enum(['refuse', 'drop']).default('refuse'),
  })
  .strict();

export type RuleSchemaConfig = z.output<typeof ruleSchemaSchema>;
