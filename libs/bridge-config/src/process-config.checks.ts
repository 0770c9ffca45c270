import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Report } from '@app/config';
import { compileProcess, ProcessConfig, SchemaFileError, TransformProgram } from '@app/transform';
import { BridgeConfig } from './bridge-config.schema';

/** Compiles every rule's process section once; schema files are relative to the configuration file. */
export function checkProcesses(config: BridgeConfig, report: Report, file: string, out: Map<string, TransformProgram>): void {
  const readSchemaFile = (schemaFile: string): unknown => {
    const path = resolve(dirname(file), schemaFile);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new SchemaFileError(`cannot read schema file ${JSON.stringify(path)}`);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new SchemaFileError(`schema file ${JSON.stringify(path)} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const sections: Array<[Array<string | number>, string, ProcessConfig | undefined]> = [
    ...config.rules.map((rule, r): [Array<string | number>, string, ProcessConfig | undefined] => [['rules', r, 'process'], rule.name, rule.process]),
    ...config.fromKafka.map((rule, r): [Array<string | number>, string, ProcessConfig | undefined] => [['fromKafka', r, 'process'], rule.name, rule.process]),
  ];
  for (const [at, name, process] of sections) {
    if (!process) continue;
    const { program, problems } = compileProcess(process, readSchemaFile);
    for (const problem of problems) report([...at, ...problem.path], problem.message);
    if (program) out.set(name, program);
  }
}
