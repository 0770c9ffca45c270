import { BridgeError } from '@app/core';
import { CompiledExpression, compileExpression, ExpressionError } from './expression';
import { fieldPathProblem, parseFieldPath } from './field-path';
import { compileJsonSchema, SchemaDefinitionError } from './json-schema.validator';
import { isSchemaFormat, ProcessConfig, StepConfig } from './process.schema';
import { CompiledStep, TransformProgram } from './transform.program';

/** A problem of a rule's `process` section, located by its path within that section. */
export interface ProcessProblem {
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

/** Reads a `schemaFile` (the caller resolves it against the configuration file). */
export type SchemaFileReader = (file: string) => unknown;

/** Result types a filter may have: `dyn` is checked on each message. */
const BOOLEAN_TYPES = new Set(['bool', 'dyn']);

/**
 * Compiles a rule's processing once, at validation: every expression parsed and type-checked,
 * every schema compiled. Gives every problem found, not just the first.
 */
export function compileProcess(config: ProcessConfig, readSchemaFile: SchemaFileReader): { program?: TransformProgram; problems: ProcessProblem[] } {
  const problems: ProcessProblem[] = [];
  const steps: CompiledStep[] = [];
  config.steps.forEach((step, i) => {
    const compiled = compileStep(step, ['steps', i], `steps[${i}]`, readSchemaFile, (path, message) => problems.push({ path, message }));
    if (compiled) steps.push(compiled);
  });
  if (config.input === 'raw' || config.input === 'text') {
    config.steps.forEach((step, i) => {
      const reads = step.enrich ?? step.rename ?? step.drop;
      if (reads !== undefined) {
        problems.push({ path: ['steps', i], message: `input ${config.input} has no fields to change; use map to build a document, or input json or cbor` });
      }
    });
  }
  if (problems.length > 0) return { problems };
  // A schema format is decoded and encoded by the caller (it may need the registry).
  const output = config.output ?? (isSchemaFormat(config.input) ? 'json' : config.input);
  return {
    program: new TransformProgram(isSchemaFormat(config.input) ? 'document' : config.input, isSchemaFormat(output) ? 'document' : output, steps),
    problems,
  };
}

type Report = (path: ReadonlyArray<string | number>, message: string) => void;

function compileStep(
  step: StepConfig,
  at: ReadonlyArray<string | number>,
  label: string,
  readSchemaFile: SchemaFileReader,
  report: Report,
): CompiledStep | undefined {
  const expression = (source: string, path: ReadonlyArray<string | number>): CompiledExpression | undefined => {
    try {
      return compileExpression(source);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      report(path, `invalid expression: ${error.message}`);
      return undefined;
    }
  };
  const fieldPath = (path: string, where: ReadonlyArray<string | number>): readonly string[] | undefined => {
    const problem = fieldPathProblem(path);
    if (problem) report(where, problem);
    return problem ? undefined : parseFieldPath(path);
  };

  if (step.validate) {
    const where = [...at, 'validate', step.validate.schemaFile === undefined ? 'schema' : 'schemaFile'];
    try {
      const schema = step.validate.schemaFile === undefined ? step.validate.schema : readSchemaFile(step.validate.schemaFile);
      return { kind: 'validate', label: `${label}.validate`, validator: compileJsonSchema(schema) };
    } catch (error) {
      if (!(error instanceof SchemaDefinitionError) && !(error instanceof SchemaFileError)) throw error;
      report(where, error instanceof SchemaDefinitionError ? `invalid JSON Schema (draft 2020-12): ${error.message}` : error.message);
      return undefined;
    }
  }
  if (step.filter !== undefined) {
    const compiled = expression(step.filter, [...at, 'filter']);
    if (compiled && !BOOLEAN_TYPES.has(compiled.type)) {
      report([...at, 'filter'], `a filter must give true or false; this expression gives ${compiled.type}`);
      return undefined;
    }
    return compiled && { kind: 'filter', label: `${label}.filter`, expression: compiled };
  }
  if (typeof step.map === 'string') {
    const compiled = expression(step.map, [...at, 'map']);
    return compiled && { kind: 'map-whole', label: `${label}.map`, expression: compiled };
  }
  const fields = step.map ?? step.enrich;
  if (fields !== undefined) {
    const kind = step.map !== undefined ? 'map' : 'enrich';
    const compiled = Object.entries(fields).map(([path, source]) => {
      const where = [...at, kind, path];
      const parsed = fieldPath(path, where);
      const value = expression(source, where);
      return parsed && value ? ([parsed, value, `${label}.${kind}.${path}`] as const) : undefined;
    });
    if (compiled.some((f) => f === undefined)) return undefined;
    return { kind, label: `${label}.${kind}`, fields: compiled as Array<NonNullable<(typeof compiled)[number]>> };
  }
  if (step.rename !== undefined) {
    const moves = Object.entries(step.rename).map(([from, to]) => {
      const source = fieldPath(from, [...at, 'rename', from]);
      const target = fieldPath(to, [...at, 'rename', from]);
      return source && target ? ([source, target] as const) : undefined;
    });
    if (moves.some((m) => m === undefined)) return undefined;
    return { kind: 'rename', label: `${label}.rename`, moves: moves as Array<readonly [readonly string[], readonly string[]]> };
  }
  if (step.drop !== undefined) {
    const paths = step.drop.map((path, j) => fieldPath(path, [...at, 'drop', j]));
    if (paths.some((p) => p === undefined)) return undefined;
    return { kind: 'drop', label: `${label}.drop`, paths: paths as Array<readonly string[]> };
  }
  return undefined;
}

/** A `schemaFile` that cannot be read or is not JSON; the message names the file. */
export class SchemaFileError extends BridgeError {
  readonly retriable = false;
  readonly code = 'schema-file-unreadable';

  constructor(message: string) {
    super(message);
  }
}
