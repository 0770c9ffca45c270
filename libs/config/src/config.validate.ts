import { z, ZodIssue, ZodTypeAny } from 'zod';
import { ConfigError, ConfigProblem, PathSegment } from './config.error';
import { YamlDocument } from './yaml-document';

/** Reports a semantic problem at a path of the document; used by cross-field checks. */
export type Report = (path: readonly PathSegment[], message: string) => void;

/**
 * Validates a loaded document against a schema, then runs the cross-field `checks`
 * on the typed value. Throws one ConfigError listing every problem found.
 */
export function validateDocument<S extends ZodTypeAny>(
  doc: YamlDocument,
  schema: S,
  checks: ReadonlyArray<(value: z.output<S>, report: Report) => void> = [],
): z.output<S> {
  const problems: ConfigProblem[] = [];
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...describeIssue(doc, schema, issue));
    throw new ConfigError(sortProblems(problems));
  }
  const report: Report = (path, message) => problems.push(doc.problem(path, message));
  for (const check of checks) check(parsed.data, report);
  if (problems.length > 0) throw new ConfigError(sortProblems(problems));
  return parsed.data;
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}

function describeIssue(doc: YamlDocument, root: ZodTypeAny, issue: ZodIssue): ConfigProblem[] {
  const path = issue.path;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(root, path);
      const hint = allowed ? ` (expected one of: ${allowed.join(', ')})` : '';
      return issue.keys.map((key) => doc.problem(path, `unknown field${hint}`, key));
    }
    case 'invalid_type':
      if (issue.received === 'undefined') return [doc.problem(path, `required field is missing (expected ${issue.expected})`)];
      return [doc.problem(path, `expected ${issue.expected}, got ${issue.received}`)];
    case 'invalid_enum_value':
      return [doc.problem(path, `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(issue.received)}`)];
    case 'invalid_literal':
      return [doc.problem(path, `expected ${JSON.stringify(issue.expected)}`)];
    case 'invalid_union_discriminator':
      return [doc.problem(path, `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`)];
    case 'too_small':
      return [doc.problem(path, issue.type === 'array' ? `needs at least ${issue.minimum} item(s)` : issue.message)];
    default:
      return [doc.problem(path, issue.message)];
  }
}

/** Field names an object schema accepts at `path`, for the "unknown field" hint. */
function allowedKeys(root: ZodTypeAny, path: readonly PathSegment[]): string[] | undefined {
  let schema: ZodTypeAny | undefined = root;
  for (const seg of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = schema.shape[String(seg)];
    else if (schema instanceof z.ZodArray) schema = schema.element;
    else if (schema instanceof z.ZodRecord) schema = schema.valueSchema;
    else return undefined;
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

function unwrap(schema: ZodTypeAny | undefined): ZodTypeAny | undefined {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodDefault) s = s._def.innerType;
    else if (s instanceof z.ZodEffects) s = s.innerType();
    else return s;
  }
}
