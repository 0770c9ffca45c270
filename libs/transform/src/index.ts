export * from './expression';
export * from './field-path';
export * from './json-schema.validator';
export * from './payload-format';
export * from './process.compiler';
export * from './process.schema';
export * from './transform.errors';
export * from './transform.program';
