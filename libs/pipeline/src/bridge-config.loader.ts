import { accessSync, constants } from 'node:fs';
import { Environment, Report, validateDocument, YamlDocument } from '@app/config';
import { compileTemplate, TemplateError } from '@app/topic';
import { BridgeConfig, bridgeConfigSchema } from './bridge-config.schema';
import { parseRule, ParsedRule } from './compiled-rule';
import { destinationType } from './destination.registry';
import { SubscriptionPlan } from './subscription-plan';

/** A validated configuration with the rules' filters already parsed. */
export interface LoadedConfig {
  readonly file: string;
  readonly config: BridgeConfig;
  readonly rules: readonly ParsedRule[];
  readonly plan: SubscriptionPlan;
}

/**
 * Reads, interpolates and validates a bridge configuration file. Throws one ConfigError
 * listing every problem with file, line, column and YAML path.
 */
export function loadBridgeConfig(file: string, env: Environment): LoadedConfig {
  const doc = YamlDocument.load(file, env);
  const rules: ParsedRule[] = [];
  const config = validateDocument(doc, bridgeConfigSchema, [
    (c, report) => checkRules(c, report, rules),
    checkMqtt,
    checkFiles,
  ]);
  return { file, config, rules, plan: new SubscriptionPlan(rules) };
}

function checkRules(config: BridgeConfig, report: Report, out: ParsedRule[]): void {
  const seen = new Map<string, number>();
  config.rules.forEach((rule, r) => {
    const first = seen.get(rule.name);
    if (first !== undefined) report(['rules', r, 'name'], `duplicate rule name ${JSON.stringify(rule.name)} (also rules[${first}])`);
    else seen.set(rule.name, r);
    out.push(parseRule(rule));
  });
  if (config.mqtt.protocolVersion === 5) return;
  // MQTT 3.1.1 has no subscription identifiers: overlapping subscriptions would double-deliver.
  for (const [a, b] of new SubscriptionPlan(out).overlaps()) {
    report(
      ['rules', b.owners[0], 'filters'],
      `filter ${JSON.stringify(b.filter)} overlaps ${JSON.stringify(a.filter)}: with MQTT 3.1.1 the broker may deliver a message once per subscription ` +
        'and the bridge cannot tell the copies apart; use mqtt.protocolVersion: 5 or make the filters disjoint',
    );
  }
}

function checkMqtt(config: BridgeConfig, report: Report): void {
  const mqtt = config.mqtt;
  if (mqtt.session.persistent && !mqtt.clientId) {
    report(['mqtt', 'clientId'], 'a persistent session needs a fixed clientId (the broker keeps the session under it)');
  }
  if (mqtt.status) {
    try {
      compileTemplate(mqtt.status.topic, []);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      report(['mqtt', 'status', 'topic'], error.message);
    }
  }
}

function checkFiles(config: BridgeConfig, report: Report): void {
  const files: Array<[Array<string | number>, string | undefined]> = [
    [['mqtt', 'tls', 'ca'], config.mqtt.tls?.ca],
    [['mqtt', 'tls', 'cert'], config.mqtt.tls?.cert],
    [['mqtt', 'tls', 'key'], config.mqtt.tls?.key],
    [['kafka', 'tls', 'ca'], config.kafka.tls?.ca],
    [['kafka', 'tls', 'cert'], config.kafka.tls?.cert],
    [['kafka', 'tls', 'key'], config.kafka.tls?.key],
  ];
  for (const [path, file] of files) {
    if (!file) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      report(path, `cannot read file ${JSON.stringify(file)}`);
    }
  }
}
