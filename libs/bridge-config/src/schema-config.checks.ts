import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Report } from '@app/config';
import { planRuleSchema, RuleSchemaPlan } from '@app/registry';
import { BridgeConfig } from './bridge-config.schema';
import { processSections, readSchemaText } from './process-config.checks';

/**
 * Checks every rule's schema section against its formats and the registries defined, compiles
 * schema files (relative to the configuration file), and resolves registry CA paths likewise.
 */
export function checkSchemas(config: BridgeConfig, report: Report, file: string, out: Map<string, RuleSchemaPlan>): void {
  const registries = Object.keys(config.schemaRegistries);
  for (const [name, registry] of Object.entries(config.schemaRegistries)) {
    if (registry.ca === undefined) continue;
    const given = registry.ca;
    registry.ca = resolve(dirname(file), given);
    try {
      accessSync(registry.ca, constants.R_OK);
    } catch {
      const relative = given === registry.ca ? '' : ` (${JSON.stringify(given)} is relative to the configuration file)`;
      report(['schemaRegistries', name, 'ca'], `cannot read file ${JSON.stringify(registry.ca)}${relative}`);
    }
  }
  const readFile = (schemaFile: string): string => readSchemaText(file, schemaFile);
  for (const [at, name, process] of processSections(config)) {
    const { plan, problems } = planRuleSchema(process, registries, readFile);
    for (const problem of problems) report([...at, ...problem.path], problem.message);
    if (plan) out.set(name, plan);
  }
}
