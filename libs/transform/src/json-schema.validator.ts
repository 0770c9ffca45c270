import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { BridgeError } from '@app/core';
import { Document } from './payload-format';
import { SchemaInvalidError } from './transform.errors';

/** A JSON Schema (draft 2020-12) that is not a valid schema; the message says where and why. */
export class SchemaDefinitionError extends BridgeError {
  readonly retriable = false;
  readonly code = 'json-schema-invalid';

  constructor(message: string) {
    super(message);
  }
}

/** Checks decoded documents against one schema. */
export interface DocumentValidator {
  /** @throws SchemaInvalidError with the first failing pointer and keyword. */
  check(document: Document): void;
}

// A misspelt keyword ("maximun") is a configuration error, not a check silently skipped; the
// stricter style checks (a `required` name without a `properties` entry...) are valid schemas.
// Ajv generates the check's code from the schema, which comes from the operator's
// configuration, never from a message.
const ajv = new Ajv2020({
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allErrors: false,
  validateSchema: true,
  addUsedSchema: false,
});
addFormats(ajv);

/**
 * Compiles a draft 2020-12 schema once, at validation.
 * @throws SchemaDefinitionError when the schema itself is invalid.
 */
export function compileJsonSchema(schema: unknown): DocumentValidator {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    if (typeof schema !== 'boolean') throw new SchemaDefinitionError('a JSON Schema is an object (or true/false)');
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as object | boolean);
  } catch (error) {
    throw new SchemaDefinitionError(error instanceof Error ? error.message : String(error));
  }
  return {
    check(document: Document): void {
      if (validate(document)) return;
      const first: ErrorObject | undefined = validate.errors?.[0];
      throw new SchemaInvalidError(first?.instancePath ?? '', first?.keyword ?? 'unknown', first?.schemaPath ?? '#');
    },
  };
}
