import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkControlTransport } from '@app/admin';
import { ConfigError, Environment, Report, validateDocument, YamlDocument } from '@app/config';
import { KeyEntry } from '@app/crypto';
import { kafkaTopicProblem } from '@app/kafka/kafka-topic-name';
import { compileTemplate, filtersIntersect, matchTopic, parseTopicFilter, TemplateError, TopicFilter } from '@app/topic';
import { BridgeConfig, bridgeConfigSchema, DeadLetterTarget } from './bridge-config.schema';
import { parseRule, ParsedRule } from './compiled-rule';
import { checkKeys, checkSecrets, ConfigRole, ConfigSecrets, readPlainKeys } from './key-config.checks';
import { TransformProgram } from '@app/transform';
import { checkProcesses } from './process-config.checks';
import { checkSchemas } from './schema-config.checks';
import { RuleSchemaPlan } from '@app/registry';
import { SubscriptionPlan } from './subscription-plan';
import { SourceBrokerMatcher, sourceBrokerMatcher } from './source-broker.matcher';

/** A validated configuration with the rules' filters already parsed. */
export interface LoadedConfig {
  readonly file: string;
  readonly config: BridgeConfig;
  readonly rules: readonly ParsedRule[];
  readonly plan: SubscriptionPlan;
  /** The plain key file as read at validation, when the configuration has one. */
  readonly keys?: readonly KeyEntry[];
  readonly secrets: ConfigSecrets;
  /** Each rule's processing, compiled at validation, by rule name (rules without one are absent). */
  readonly processes: ReadonlyMap<string, TransformProgram>;
  /** Each rule's schema stage (process.schema), checked and its file compiled, by rule name. */
  readonly schemas: ReadonlyMap<string, RuleSchemaPlan>;
}

/**
 * loadBridgeConfig for an entry point: a configuration with problems is written to `report`
 * (every problem, located) and gives undefined, so the caller exits 1.
 */
export async function loadBridgeConfigOrReport(
  file: string,
  env: Environment,
  report: (text: string) => void,
  role: ConfigRole,
): Promise<LoadedConfig | undefined> {
  try {
    return await loadBridgeConfig(file, env, role);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report(error.message);
    return undefined;
  }
}

/**
 * Reads, interpolates and validates a bridge configuration file. Throws one ConfigError
 * listing every problem with file, line, column and YAML path. Only the admin role reads the
 * admin section's secrets.
 */
export async function loadBridgeConfig(file: string, env: Environment, role: ConfigRole = 'worker'): Promise<LoadedConfig> {
  const doc = YamlDocument.load(file, env);
  const keys = await readPlainKeys(doc, file);
  const sameAsSource = await sourceBrokerMatcher(doc.toJS());
  const rules: ParsedRule[] = [];
  const secrets: ConfigSecrets = { previousMasterKeys: [] };
  const processes = new Map<string, TransformProgram>();
  const schemas = new Map<string, RuleSchemaPlan>();
  const config = validateDocument(doc, bridgeConfigSchema, [
    (c, report) => checkProcesses(c, report, file, processes),
    (c, report) => checkSchemas(c, report, file, schemas),
    (c, report) => checkControlTransport(c.control, report, file),
    (c, report) => checkRules(c, report, rules),
    checkMqtt,
    (c, report) => checkFiles(c, report, file),
    (c, report) => checkKeys(c, report, keys),
    (c, report) => checkSecrets(c, report, env, file, secrets, role),
    checkKafkaTopicNames,
    (c, report) => checkMqttDeadLetters(c, report, rules),
    (c, report) => checkLoops(c, report, rules, sameAsSource),
    (c, report) => checkKafkaLoops(c, report, rules, sameAsSource),
  ]);
  // Relative paths in the keys section are relative to the configuration file.
  if (config.keys?.file) config.keys.file = resolve(dirname(file), config.keys.file);
  if (config.keys?.store?.type === 'file') config.keys.store.path = resolve(dirname(file), config.keys.store.path);
  return { file, config, rules, plan: new SubscriptionPlan(rules), keys: keys.entries, secrets, processes, schemas };
}

function checkRules(config: BridgeConfig, report: Report, out: ParsedRule[]): void {
  if (config.rules.length === 0 && config.fromKafka.length === 0) report(['rules'], 'no rules: give at least one entry in rules or fromKafka');
  // Names label metrics and dead letters, so they are unique over both lists.
  const seen = new Map<string, string>();
  const named = [
    ...config.rules.map((rule, r) => ['rules', r, rule.name] as const),
    ...config.fromKafka.map((rule, r) => ['fromKafka', r, rule.name] as const),
  ];
  for (const [list, index, name] of named) {
    const first = seen.get(name);
    if (first !== undefined) report([list, index, 'name'], `duplicate rule name ${JSON.stringify(name)} (also ${first})`);
    else seen.set(name, `${list}[${index}]`);
  }
  config.rules.forEach((rule) => out.push(parseRule(rule)));
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

type DeadLetterEntry = [Array<string | number>, DeadLetterTarget];

/** The configuration's dead-letter targets with their paths: the default, then each rule's own. */
function deadLetterTargets(config: BridgeConfig): DeadLetterEntry[] {
  return [
    [['deadLetter'], config.deadLetter],
    ...[
      ...config.rules.map((rule, r): [Array<string | number>, DeadLetterTarget | undefined] => [['rules', r, 'deadLetter'], rule.deadLetter]),
      ...config.fromKafka.map((rule, r): [Array<string | number>, DeadLetterTarget | undefined] => [['fromKafka', r, 'deadLetter'], rule.deadLetter]),
    ].filter((entry): entry is DeadLetterEntry => entry[1] !== undefined),
  ];
}

/**
 * Kafka topics written as plain names where the schema only asks for a string (the keystore,
 * the audit log): Kafka would refuse them at the first write.
 */
function checkKafkaTopicNames(config: BridgeConfig, report: Report): void {
  const names: Array<[Array<string | number>, string | undefined]> = [
    [['keys', 'store', 'topic'], config.keys?.store?.type === 'kafka' ? config.keys.store.topic : undefined],
    [['admin', 'audit', 'topic'], config.admin?.audit.topic],
  ];
  for (const [path, name] of names) {
    const problem = name === undefined ? null : kafkaTopicProblem(name);
    if (problem) report(path, problem);
  }
}

/** MQTT dead letters carry their reason in user properties (MQTT 5), and must not loop back in. */
function checkMqttDeadLetters(config: BridgeConfig, report: Report, rules: readonly ParsedRule[]): void {
  for (const [path, target] of deadLetterTargets(config)) {
    if (target.type !== 'mqtt') continue;
    if (config.mqtt.protocolVersion !== 5) {
      report([...path, 'type'], 'MQTT dead letters carry their reason in MQTT 5 user properties: set mqtt.protocolVersion: 5 or use a Kafka topic');
    }
    const looping = rules.find((rule) => rule.filters.some((f) => matchTopic(f, target.topic)));
    if (looping) report([...path, 'topic'], `rule ${looping.name} subscribes to ${target.topic}: the bridge would consume its own dead letters`);
  }
}

/**
 * An MQTT destination on the source broker whose topic could match a rule's filter would feed
 * the bridge its own output. Placeholders count as wildcards: `{topic}` as `#`, others as `+`.
 */
function checkLoops(config: BridgeConfig, report: Report, rules: readonly ParsedRule[], sameAsSource: SourceBrokerMatcher): void {
  if (rules.length !== config.rules.length) return;
  config.rules.forEach((rule, r) =>
    rule.destinations.forEach((destination, d) => {
      if (destination.type !== 'mqtt' || !sameAsSource(destination.broker.url)) return;
      const reach = templateReach(destination.topic);
      const looping = rules.find((other) => other.filters.some((f) => filtersIntersect(f, reach)));
      if (looping) {
        report(
          ['rules', r, 'destinations', d, 'topic'],
          `publishes on the source broker to topics that rule ${looping.name} subscribes to: the bridge would consume its own output (pick a topic outside every rule's filters or another broker)`,
        );
      }
    }),
  );
}

/**
 * A Kafka -> MQTT rule publishing on the source broker where an MQTT rule subscribes, while that
 * rule writes to a Kafka topic the first one reads, would go round for ever.
 */
function checkKafkaLoops(config: BridgeConfig, report: Report, rules: readonly ParsedRule[], sameAsSource: SourceBrokerMatcher): void {
  if (rules.length !== config.rules.length) return;
  config.fromKafka.forEach((k, r) => {
    if (k.mqtt.broker && !sameAsSource(k.mqtt.broker.url)) return;
    const reads = (topic: string) => (k.kafka.topics ? k.kafka.topics.includes(topic) : new RegExp(k.kafka.topicPattern!).test(topic));
    const reach = templateReach(k.mqtt.topic);
    config.rules.forEach((rule, m) => {
      if (!rules[m].filters.some((f) => filtersIntersect(f, reach))) return;
      const back = rule.destinations.find((d) => d.type === 'kafka' && !d.topic.includes('{') && reads(d.topic));
      if (back?.type === 'kafka') {
        report(
          ['fromKafka', r, 'mqtt', 'topic'],
          `rule ${rule.name} subscribes to these topics and writes them back to Kafka topic ${back.topic}, which this rule reads: records would loop`,
        );
      }
    });
  });
}

/** The topics a topic template can render to, as a filter. */
function templateReach(template: string): TopicFilter {
  if (template.includes('{topic}')) return parseTopicFilter('#');
  return parseTopicFilter(
    template
      .split('/')
      .map((level) => (level.includes('{') ? '+' : level))
      .join('/'),
  );
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

type TlsFiles = { ca?: string; cert?: string; key?: string };

/**
 * TLS files of every connection (the source broker, Kafka, MQTT destinations, fromKafka
 * brokers), resolved against the configuration file's directory like every other path in it,
 * then checked readable.
 */
function checkFiles(config: BridgeConfig, report: Report, file: string): void {
  const connections: Array<[Array<string | number>, TlsFiles | undefined]> = [
    [['mqtt', 'tls'], config.mqtt.tls],
    [['kafka', 'tls'], config.kafka.tls],
    ...config.rules.flatMap((rule, r) =>
      rule.destinations.map((d, i): [Array<string | number>, TlsFiles | undefined] => [
        ['rules', r, 'destinations', i, 'broker', 'tls'],
        d.type === 'mqtt' ? d.broker.tls : undefined,
      ]),
    ),
    ...config.fromKafka.map((rule, r): [Array<string | number>, TlsFiles | undefined] => [['fromKafka', r, 'mqtt', 'broker', 'tls'], rule.mqtt.broker?.tls]),
  ];
  for (const [at, tls] of connections) {
    for (const field of ['ca', 'cert', 'key'] as const) {
      const given = tls?.[field];
      if (!given) continue;
      tls[field] = resolve(dirname(file), given);
      try {
        accessSync(tls[field]!, constants.R_OK);
      } catch {
        report(
          [...at, field],
          `cannot read file ${JSON.stringify(tls[field])}${given === tls[field] ? '' : ` (${JSON.stringify(given)} is relative to the configuration file)`}`,
        );
      }
    }
  }
}
