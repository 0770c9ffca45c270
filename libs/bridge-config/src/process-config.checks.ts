import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Report } from '@app/config';
import { compileProcess, SchemaFileError, TransformProgram } from '@app/transform';
import { BridgeConfig } from './bridge-config.schema';
import { RuleProcessConfig } from './rule-process.schema';

/** Compiles every rule's process section once; schema files are relative to the configuration file. */
export function checkProcesses(config: BridgeConfig, report: Report, file: string, out: Map<string, TransformProgram>): void {
  const readSchemaFile = (schemaFile: string): unknown => {
    const text = readSchemaText(file, schemaFile);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new SchemaFileError(
        `schema file ${JSON.stringify(resolve(dirname(file), schemaFile))} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  for (const [at, name, process] of processSections(config)) {
    const { program, problems } = compileProcess(process, readSchemaFile);
    for (const problem of problems) report([...at, ...problem.path], problem.message);
    if (program) out.set(name, program);
  }
}

/** Every rule's process section (MQTT rules, then fromKafka), with its path and the rule's name. */
export function processSections(config: BridgeConfig): Array<[Array<string | number>, string, RuleProcessConfig]> {
  const sections: Array<[Array<string | number>, string, RuleProcessConfig | undefined]> = [
    ...config.rules.map((rule, r): [Array<string | number>, string, RuleProcessConfig | undefined] => [['rules', r, 'process'], rule.name, rule.process]),
    ...config.fromKafka.map((rule, r): [Array<string | number>, string, RuleProcessConfig | undefined] => [
      ['fromKafka', r, 'process'],
      rule.name,
      rule.process,
    ]),
  ];
  return sections.filter((entry): entry is [Array<string | number>, string, RuleProcessConfig] => entry[2] !== undefined);
}

/** A schema file's text, its path relative to the configuration file. @throws SchemaFileError naming the file. */
export function readSchemaText(configFile: string, schemaFile: string): string {
  const path = resolve(dirname(configFile), schemaFile);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new SchemaFileError(`cannot read schema file ${JSON.stringify(path)}`);
  }
}
