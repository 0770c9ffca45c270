import { ConfigError, Environment, formatProblem } from '@app/config';
import { BridgeMessage } from '@app/core';
import { EnvelopeSealer, Keyring, SodiumProvider } from '@app/crypto';
import { ConsumedRecord, KafkaSourceConfig } from '@app/kafka';
import { TemplateContext } from '@app/topic';
import { KafkaRuleConfig, LoadedConfig, loadBridgeConfigOrReport } from '@app/bridge-config';
import { createRuleDestinations, DestinationResources } from './destination.factory';
import { PayloadTransformer, PreviewedRule, previewRule, ruleContext } from '@app/pipeline';
import { SchemaEncoder, SchemaRegistries, schemaStage } from '@app/registry';
import { recordInput } from './kafka-record.input';
import { kafkaRuleDestination } from './kafka-rule.destination';
import { caseMessage, caseReceivedAt, caseRecord, loadRuleTests, testKeyring } from './rule-test.cases';
import { ActualDeadLetter, ActualOutput, CaseOutcome, compareOutcome, inJsonTerms } from './rule-test.expectation';
import { KafkaTestCase, MqttTestCase, RuleTestCase, RuleTestFile } from './rule-test.schema';

/** The client id expressions and templates see when the configuration sets none. */
const TEST_CLIENT_ID = 'bridge-test';
const ASK_ONCE = { initialMs: 1, maxMs: 1, maxAttempts: 1, maxElapsedMs: 0 };

/** How one case went: no differences means it passed. */
export interface RuleTestResult {
  readonly name: string;
  readonly differences: readonly string[];
}

/**
 * Something a destination asks for only to connect. `bridge test` builds destinations to
 * render their addresses and never connects them: any use of one is a bug, said loudly.
 */
function unconnected<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      throw new Error(`bridge test connects to nothing, yet ${what}.${String(property)} was used`);
    },
  });
}

const OFFLINE: DestinationResources = {
  kafkaWriter: () => unconnected('the Kafka writer'),
  mqttFactory: () => unconnected('the MQTT client factory'),
  amqpFactory: () => unconnected('the AMQP client factory'),
  natsFactory: () => unconnected('the NATS client factory'),
};

/** A fromKafka rule as `bridge test` runs it. */
interface KafkaRuleUnderTest {
  readonly config: KafkaRuleConfig;
  readonly reads: (topic: string) => boolean;
  readonly preview: PreviewedRule;
}

/** One rule taking a case's message, with what it sees of it. */
interface Take {
  readonly rule: PreviewedRule;
  readonly message: BridgeMessage;
  readonly context: TemplateContext;
}

/**
 * Runs `bridge test` cases against a loaded configuration, without any broker: each case's
 * message goes through routing (the configuration's subscription plan; for a Kafka record, the
 * fromKafka rules reading its topic), every matching rule's transform and process steps, and
 * each destination's addressing and headers, exactly as delivery and the replay dry run do
 * (previewRule); sealed outputs are opened with the test keys.
 */
export class RuleTestRunner {
  private readonly rules: readonly PreviewedRule[];
  private readonly kafkaRules: readonly KafkaRuleUnderTest[];
  private readonly transformer: PayloadTransformer;
  private readonly clientId: string;

  private constructor(
    private readonly loaded: LoadedConfig,
    private readonly sealer: EnvelopeSealer,
    private readonly keyring: Keyring,
    registries: SchemaRegistries,
  ) {
    const { config } = loaded;
    this.rules = loaded.rules.map((rule, r) => ({
      name: rule.name,
      destinations: createRuleDestinations(config.rules[r].destinations, rule.name, rule.captures, OFFLINE),
      transform: config.rules[r].transform,
      process: loaded.processes.get(rule.name),
      ...schemaStage(loaded.schemas.get(rule.name), registries),
    }));
    this.kafkaRules = config.fromKafka.map((rule) => ({
      config: rule,
      reads: topicReader(rule.kafka),
      preview: {
        name: rule.name,
        destinations: [kafkaRuleDestination(rule, config.mqtt, OFFLINE.mqttFactory())],
        transform: rule.transform,
        process: loaded.processes.get(rule.name),
        ...schemaStage(loaded.schemas.get(rule.name), registries),
      },
    }));
    this.transformer = new PayloadTransformer(sealer, { current: () => keyring });
    this.clientId = config.mqtt.clientId ?? TEST_CLIENT_ID;
  }

  /**
   * Rules with a schema registry ask it for real, once per schema: a registry that cannot be
   * reached shows as a `registry-unavailable` dead letter rather than a wait.
   */
  static async create(loaded: LoadedConfig, tests: RuleTestFile, sodium: SodiumProvider = new SodiumProvider()): Promise<RuleTestRunner> {
    const registries = new SchemaRegistries(loaded.config.schemaRegistries, { retry: ASK_ONCE });
    return new RuleTestRunner(loaded, await EnvelopeSealer.create(sodium), testKeyring(tests, loaded.keys ?? []), registries);
  }

  async run(c: RuleTestCase): Promise<RuleTestResult> {
    let takes: Take[];
    try {
      takes = isKafkaCase(c)
        ? this.kafkaTakes(caseRecord(c, this.sealer, this.keyring), caseReceivedAt(c))
        : this.mqttTakes(caseMessage(c as MqttTestCase, this.sealer, this.keyring));
    } catch (error) {
      return { name: c.name, differences: [`cannot seal the payload with key ${c.sealWith}: ${error instanceof Error ? error.message : String(error)}`] };
    }
    return { name: c.name, differences: compareOutcome(c.expect, await this.outcome(takes)) };
  }

  private mqttTakes(message: BridgeMessage): Take[] {
    const levels = message.topic.split('/');
    return this.loaded.plan.route(message.topic, message.retain).map((route) => {
      const rule = this.rules[route.rule];
      return { rule, message, context: ruleContext(rule.name, message, levels, route.captures, this.clientId) };
    });
  }

  /** The fromKafka rules reading the record's topic, each with the message and context delivery would give it. */
  private kafkaTakes(record: ConsumedRecord, receivedAt: number): Take[] {
    return this.kafkaRules
      .filter((rule) => rule.reads(record.topic))
      .map((rule) => {
        const { message, context } = recordInput(record, rule.config, this.clientId);
        return { rule: rule.preview, message: { ...message, receivedAt }, context };
      });
  }

  private async outcome(takes: readonly Take[]): Promise<CaseOutcome> {
    const outcome = {
      rules: [] as string[],
      filtered: [] as Array<{ rule: string; by: string }>,
      deadLetters: [] as ActualDeadLetter[],
      outputs: [] as ActualOutput[],
    };
    for (const { rule, message, context } of takes) {
      outcome.rules.push(rule.name);
      const sealed = rule.transform.mode === 'encrypt' || rule.transform.mode === 'reencrypt';
      const payloads = new Map<string, { plaintext?: Buffer; openProblem?: string }>();
      const preview = await previewRule(this.transformer, rule, message, context, (destination, where, bytes) => {
        payloads.set(destination, sealed ? this.open(rule, where.address, bytes) : { plaintext: Buffer.from(bytes) });
      });
      if (preview.filtered !== undefined) outcome.filtered.push({ rule: rule.name, by: preview.filtered });
      for (const { stage, failure } of preview.failures) outcome.deadLetters.push({ rule: rule.name, stage, reason: failure.code, message: failure.message });
      for (const { destination, preview: where } of preview.outputs) {
        const payload = payloads.get(destination);
        outcome.outputs.push({
          rule: rule.name,
          destination,
          summary: where.summary,
          topic: where.address,
          key: where.key,
          headers: where.headers,
          sealed,
          ...payload,
          decoded: rule.schemaEncoder && payload?.plaintext ? await decodedOutput(rule.schemaEncoder, where.address, payload.plaintext) : undefined,
        });
      }
    }
    return outcome;
  }

  /** Opens what the bridge sealed, as a consumer holding the destination key would. */
  private open(rule: PreviewedRule, address: string, envelope: Buffer): { plaintext?: Buffer; openProblem?: string } {
    const { destinationKey, bindDestinationTopic } = rule.transform;
    try {
      const opened = this.sealer.open(envelope, {
        keyring: this.keyring,
        expectedKeyName: destinationKey,
        topic: address,
        requireTopicBinding: bindDestinationTopic,
      });
      return { plaintext: Buffer.from(opened.plaintext) };
    } catch (error) {
      return { openProblem: error instanceof Error ? error.message : String(error) };
    }
  }
}

/** An Avro or Protobuf output read back with the rule's schema, in JSON terms. */
async function decodedOutput(encoder: SchemaEncoder, address: string, bytes: Buffer): Promise<{ value: unknown } | { problem: string }> {
  try {
    return { value: inJsonTerms(await encoder.read(address, bytes)) };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

function isKafkaCase(c: RuleTestCase): c is KafkaTestCase {
  return c.kafka !== undefined;
}

/** Whether a fromKafka rule reads a topic: as kafkajs subscribes, a listed name or a match of the pattern. */
function topicReader(source: KafkaSourceConfig): (topic: string) => boolean {
  if (source.topics) {
    const topics = new Set(source.topics);
    return (topic) => topics.has(topic);
  }
  const pattern = new RegExp(source.topicPattern!);
  return (topic) => pattern.test(topic);
}

/** Where `bridge test` writes: results to `out`, configuration and case-file problems to `err`. */
export interface RuleTestOutput {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `bridge test <config> <cases>`: validates the configuration as `bridge validate` does, runs
 * every case, prints `ok   <name>` or `FAIL <name>` with the differences, then a summary.
 * Gives the exit code: 0 when every case passed, 1 when one failed or a file is invalid.
 */
export async function runRuleTestFiles(configFile: string, casesFile: string, env: Environment, output: RuleTestOutput): Promise<number> {
  const loaded = await loadBridgeConfigOrReport(configFile, env, output.err, 'worker');
  if (!loaded) return 1;
  let tests: RuleTestFile;
  try {
    tests = loadRuleTests(
      casesFile,
      env,
      (loaded.keys ?? []).map((k) => k.name),
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const count = error.problems.length + error.omitted;
    output.err(`invalid case file (${count} problem${count === 1 ? '' : 's'}):`);
    for (const problem of error.problems) output.err(`  ${formatProblem(problem)}`);
    if (error.omitted > 0) output.err(`  ... and ${error.omitted} more`);
    return 1;
  }
  const runner = await RuleTestRunner.create(loaded, tests);
  let failed = 0;
  for (const c of tests.cases) {
    const result = await runner.run(c);
    if (result.differences.length === 0) {
      output.out(`ok   ${result.name}`);
      continue;
    }
    failed++;
    output.out(`FAIL ${result.name}`);
    output.out('     (- expected, + actual)');
    for (const line of result.differences) output.out(`     ${line}`);
  }
  output.out(`${tests.cases.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
