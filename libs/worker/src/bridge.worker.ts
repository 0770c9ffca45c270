import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AmqpClientFactory } from '@app/amqp';
import { BridgeError, Destination } from '@app/core';
import { EnvelopeSealer, SodiumProvider } from '@app/crypto';
import { kafkaClientConfig, KafkaClientFactory, KafkaWriter, openKafkaWriter, RdkafkaClientFactory } from '@app/kafka';
import { MqttClientFactory, MqttSource } from '@app/mqtt';
import { NatsClientFactory } from '@app/nats';
import { compileTemplate } from '@app/topic';
import { LoadedConfig, ParsedRule, sequentialIds, SubscriptionPlan } from '@app/bridge-config';
import { SchemaRegistries, schemaStage } from '@app/registry';
import { BridgeStats, BridgePipeline, RuntimeRule, DeadLetterWriter, PayloadTransformer, ReplayGuard, ReplayWindowConfig } from '@app/pipeline';
import { connectionClientId, connectionOf, MAIN_CONNECTION, onConnection } from './isolation';
import { DeadLetterReplayer, ReplayLine, ReplayReport } from './dead-letter.replayer';
import { createRuleDestinations } from './destination.factory';
import { keySourceOpener } from './key-source.factory';
import { createKafkaRuleRunner, KafkaRuleRunner } from './kafka-rule.runner';
import { KeyringWatcher } from './keyring.watcher';

/** The rules whose messages arrive on one MQTT connection (see isolation.ts). */
interface RuntimeConnection {
  readonly plan: SubscriptionPlan;
  readonly rules: readonly RuntimeRule[];
  pipeline?: BridgePipeline;
}

/** What a configuration's rules turn into; replaced whole by a reload. */
interface Runtime {
  readonly loaded: LoadedConfig;
  /** Every MQTT rule, in configuration order. */
  readonly rules: readonly RuntimeRule[];
  readonly destinations: readonly Destination[];
  /** By connection (MAIN_CONNECTION or an isolated rule's name); the main one is always there. */
  readonly connections: ReadonlyMap<string, RuntimeConnection>;
}

/** Configuration sections a reload may change; the others hold connections and need a restart. */
const RELOADABLE = new Set(['rules', 'deadLetter']);

/** A reload that was refused; the running configuration stays. */
export class ReloadRefusedError extends BridgeError {
  readonly retriable = false;
  readonly code = 'reload-refused';
}

/**
 * One bridge worker: an MQTT source, the rules' destinations, the dead-letter writer and
 * the pipeline between them. `start()` connects everything and subscribes; `reload()` swaps
 * the rules without reconnecting; `stop()` stops intake, lets in-flight messages finish
 * within `drainMs`, then disconnects.
 */
export class BridgeWorker {
  private readonly log = new Logger(BridgeWorker.name);
  readonly stats = new BridgeStats({
    inFlight: () => this.inFlight,
    oldestHeldSeconds: () => this.oldestUnacknowledgedMs / 1000,
    connections: () => ({ mqtt: this.mqttConnected, kafka: this.writer.reachable }),
    destinations: () => this.destinationStates(),
  });
  readonly clientId: string;
  private readonly writer: KafkaWriter;
  private readonly deadLetters: DeadLetterWriter;
  /** The worker's MQTT connections, by connection key; the main one also carries status and MQTT dead letters. */
  private readonly sources: Map<string, MqttSource>;
  /** Pipelines of isolated connections a reload removed, still settling what they received. */
  private readonly retired = new Map<string, BridgePipeline>();
  private readonly statusTopic?: string;
  private readonly keys: KeyringWatcher;
  /** Kafka -> MQTT rules; they need a restart to change (a reload refuses `fromKafka` changes). */
  private readonly kafkaRules: readonly KafkaRuleRunner[];
  /** Subscription identifiers stay with their filter across reloads. */
  private readonly subscriptionIds = sequentialIds();
  private readonly replayGuards = new Map<string, ReplayGuard>();
  private runtime: Runtime;
  /** Readiness fails once the oldest unacknowledged message has been held this long. */
  private readonly maxHeldMs: number;
  private readonly amqpFactory = new AmqpClientFactory();
  private readonly natsFactory = new NatsClientFactory();
  private sealer?: EnvelopeSealer;
  /** For the worker's lifetime: a reload cannot change schemaRegistries. */
  private readonly registries: SchemaRegistries;

  constructor(
    loaded: LoadedConfig,
    private readonly mqttFactory: MqttClientFactory,
    private readonly kafkaFactory: KafkaClientFactory,
    private readonly sodium: SodiumProvider = new SodiumProvider(),
    rdkafkaFactory: RdkafkaClientFactory = new RdkafkaClientFactory(),
  ) {
    const { config } = loaded;
    this.maxHeldMs = config.http.maxHeldSeconds * 1000;
    this.clientId = config.mqtt.clientId ?? `mqtt-bridge-${randomBytes(4).toString('hex')}`;
    this.registries = new SchemaRegistries(config.schemaRegistries, { onRetry: (registry) => this.stats.schemaRegistryRetried(registry) });
    this.writer = openKafkaWriter(config.kafka, { kafkajs: kafkaFactory, rdkafka: rdkafkaFactory }, (records) => {
      for (const record of records) if (record.rule) this.stats.retried(record.rule);
    });
    this.runtime = this.build(loaded);
    this.deadLetters = new DeadLetterWriter(
      this.writer,
      (topic, payload, options) => this.mainSource.publish(topic, payload, options),
      config.kafka.producer.retry,
    );
    this.keys = new KeyringWatcher(
      keySourceOpener(config.keys, loaded.secrets, { sodium, kafka: config.kafka, kafkaFactory, clientId: this.clientId }),
      loaded.keys,
      config.keys?.reloadIntervalMs,
      (ok) => this.stats.keyReload(ok),
    );
    this.statusTopic = config.mqtt.status
      ? compileTemplate(config.mqtt.status.topic, []).render({ topic: '', levels: [], captures: {}, qos: 0, rule: '', clientId: this.clientId })
      : undefined;
    this.sources = new Map([...this.runtime.connections].map(([key, connection]) => [key, this.createSource(key, connection.plan)]));
    this.kafkaRules = config.fromKafka.map((rule) =>
      createKafkaRuleRunner(rule, {
        kafka: config.kafka,
        mqtt: config.mqtt,
        deadLetter: config.deadLetter,
        process: loaded.processes.get(rule.name),
        replayGuard: this.replayGuard(rule.name, rule.transform.replayWindow),
        schema: schemaStage(loaded.schemas.get(rule.name), this.registries),
        kafkaFactory,
        mqttFactory,
        // Always the current pipeline, as for MQTT messages.
        deliver: (runtimeRule, message, context, origin) => this.mainPipeline.deliver(runtimeRule, message, context, origin),
        clientId: this.clientId,
      }),
    );
  }

  /** Reloads the keys now (control-plane event) instead of at the next poll. */
  refreshKeys(): Promise<void> {
    return this.keys.refresh();
  }

  /** Messages and Kafka records taken and not yet confirmed. */
  get inFlight(): number {
    let n = this.kafkaRules.reduce((sum, rule) => sum + rule.inFlight, 0);
    for (const source of this.sources.values()) n += source.inFlight;
    return n;
  }

  private get mainSource(): MqttSource {
    return this.sources.get(MAIN_CONNECTION)!;
  }

  /** Kafka -> MQTT rules deliver through it (deliver() does not route, so any connection's would do). */
  private get mainPipeline(): BridgePipeline {
    return this.runtime.connections.get(MAIN_CONNECTION)!.pipeline!;
  }

  private get mqttConnected(): boolean {
    return [...this.sources.values()].every((source) => source.connected);
  }

  /** Over every connection: each holds its own acknowledgements. */
  private get oldestUnacknowledgedMs(): number {
    return Math.max(...[...this.sources.values()].map((source) => source.oldestUnacknowledgedMs));
  }

  /**
   * Readiness: the MQTT connections are up, Kafka answered within the last second, every Kafka -> MQTT
   * rule is in its group and connected, and no message on the main connection has been held
   * unacknowledged longer than `http.maxHeldSeconds` (it holds every acknowledgement behind it). A
   * rule on a connection of its own holds only itself: its destination being down shows in
   * `destinations` and in bridge_oldest_unacknowledged_seconds, not as the worker being unready.
   */
  async readiness(): Promise<{
    /** Each destination by name, for the operator: a secondary destination down does not make the worker unready (docs/operations.md). */
    destinations: Record<string, boolean>;
    mqtt: boolean;
    mqttProblem?: { failedAttempts: number; reason: string };
    kafka: boolean;
    fromKafka: boolean;
    held: { oldestSeconds: number; maxSeconds: number; ok: boolean };
  }> {
    const oldest = this.mainSource.oldestUnacknowledgedMs;
    return {
      destinations: Object.fromEntries(this.destinationStates().map((d) => [d.destination, d.up])),
      mqtt: this.mqttConnected,
      mqttProblem: [...this.sources.values()].map((source) => source.connectionProblem).find((problem) => problem !== undefined),
      kafka: await this.writer.probe(1_000),
      fromKafka: this.kafkaRules.every((rule) => rule.ready),
      held: { oldestSeconds: Math.round(oldest) / 1000, maxSeconds: this.maxHeldMs / 1000, ok: oldest <= this.maxHeldMs },
    };
  }

  /** Every destination of the current MQTT rules and of the Kafka -> MQTT rules, with whether it is up. */
  private destinationStates(): Array<{ rule: string; destination: string; up: boolean }> {
    const rules = [...this.runtime.rules, ...this.kafkaRules.map((runner) => runner.rule)];
    return rules.flatMap((rule) => rule.destinations.map((d) => ({ rule: rule.name, destination: d.name, up: d.up ?? true })));
  }

  /** One MQTT connection of the worker: the main one, or a rule's own (isolation). */
  private createSource(key: string, plan: SubscriptionPlan): MqttSource {
    return new MqttSource(this.mqttFactory, {
      config: this.runtime.loaded.config.mqtt,
      clientId: connectionClientId(this.clientId, key),
      subscriptions: plan.subscriptions,
      statusTopic: key === MAIN_CONNECTION ? this.statusTopic : undefined,
      onConnectFailure: () => this.stats.mqttConnectFailed(),
    });
  }

  /** Always the connection's current pipeline: a reload swaps it while the connection stays. */
  private connectSource(key: string, source: MqttSource): Promise<void> {
    return source.connect((inbound) => (this.runtime.connections.get(key)?.pipeline ?? this.retired.get(key))!.handle(inbound));
  }

  async start(): Promise<void> {
    await this.prepare();
    for (const [key, source] of this.sources) await this.connectSource(key, source);
    for (const rule of this.kafkaRules) await rule.start();
    this.announce('bridging');
  }

  /**
   * Applies a new configuration's rules without reconnecting: new destinations are connected,
   * the new pipeline takes every message that arrives from then on, subscriptions are added
   * and removed, and messages already in flight finish under the old rules (none is lost or
   * handled twice). Changes to anything but `rules` and `deadLetter` are refused.
   */
  async reload(next: LoadedConfig): Promise<void> {
    const current = this.runtime.loaded.config as Record<string, unknown>;
    const wanted = next.config as Record<string, unknown>;
    const changed = Object.keys({ ...current, ...wanted }).filter(
      (key) => !RELOADABLE.has(key) && JSON.stringify(current[key]) !== JSON.stringify(wanted[key]),
    );
    if (changed.length > 0) throw new ReloadRefusedError(`${changed.join(', ')} changed: restart the worker to apply those`);
    const runtime = this.build(next);
    const previous = this.runtime;
    const added = [...runtime.connections.keys()].filter((key) => !this.sources.has(key));
    const removed = [...this.sources.keys()].filter((key) => !runtime.connections.has(key));
    for (const destination of runtime.destinations) await destination.connect();
    this.attachPipelines(runtime);
    // A removed rule's connection stops taking messages first; what it already received
    // settles through its old pipeline.
    const retiring = removed.map((key) => {
      const source = this.sources.get(key)!;
      this.retired.set(key, previous.connections.get(key)!.pipeline!);
      this.sources.delete(key);
      return [key, source] as const;
    });
    for (const [, source] of retiring) await source.updateSubscriptions([]);
    this.runtime = runtime;
    for (const [key, source] of this.sources) await source.updateSubscriptions(runtime.connections.get(key)!.plan.subscriptions);
    for (const key of added) {
      const source = this.createSource(key, runtime.connections.get(key)!.plan);
      this.sources.set(key, source);
      await this.connectSource(key, source);
    }
    this.announce('reloaded: bridging');
    const pending = () => [...previous.connections.values()].reduce((n, c) => n + (c.pipeline?.pending ?? 0), 0);
    const deadline = Date.now() + 30_000;
    while (pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const [key, source] of retiring) {
      await source.close(5_000);
      this.retired.delete(key);
    }
    for (const destination of previous.destinations) await destination.close();
  }

  private announce(what: string): void {
    const { connections, loaded } = this.runtime;
    const fromKafka = this.kafkaRules.length > 0 ? ` and ${this.kafkaRules.length} Kafka -> MQTT rule(s)` : '';
    const filters = [...connections.values()].flatMap((c) => c.plan.subscriptions.map((s) => s.filter));
    const own =
      connections.size > 1
        ? ` (${connections.size - 1} on an MQTT connection of their own: ${[...connections.keys()].filter((k) => k !== MAIN_CONNECTION).join(', ')})`
        : '';
    this.log.log(
      `${what} ${filters.join(', ')} with ${loaded.rules.length} rule(s)${own}${fromKafka} from ${loaded.file}; Kafka writes with ${this.writer.client}`,
    );
  }

  /** Rules, destinations and routing plan of a configuration, sharing this worker's connections. */
  private build(loaded: LoadedConfig): Runtime {
    const { config } = loaded;
    const resources = {
      kafkaWriter: () => this.writer,
      mqttFactory: () => this.mqttFactory,
      amqpFactory: () => this.amqpFactory,
      natsFactory: () => this.natsFactory,
    };
    const destinations: Destination[] = [];
    const grouped = new Map<string, { parsed: ParsedRule[]; rules: RuntimeRule[] }>([[MAIN_CONNECTION, { parsed: [], rules: [] }]]);
    const rules = loaded.rules.map((rule, r): RuntimeRule => {
      const ruleConfig = config.rules[r];
      const own = createRuleDestinations(ruleConfig.destinations, rule.name, rule.captures, resources);
      destinations.push(...own);
      const runtimeRule = {
        name: rule.name,
        destinations: own,
        deadLetter: ruleConfig.deadLetter ?? config.deadLetter,
        transform: ruleConfig.transform,
        process: loaded.processes.get(rule.name),
        replayGuard: this.replayGuard(rule.name, ruleConfig.transform.replayWindow),
        ...schemaStage(loaded.schemas.get(rule.name), this.registries),
      };
      const key = connectionOf(ruleConfig);
      const group = grouped.get(key) ?? { parsed: [], rules: [] };
      group.parsed.push(onConnection(rule, key));
      group.rules.push(runtimeRule);
      grouped.set(key, group);
      return runtimeRule;
    });
    const connections = new Map(
      [...grouped].map(([key, group]) => [key, { plan: new SubscriptionPlan(group.parsed, this.subscriptionIds), rules: group.rules }]),
    );
    return { loaded, rules, destinations, connections };
  }

  /** A rule's replay guard; the same one across reloads while its window settings stay the same. */
  private replayGuard(rule: string, window: ReplayWindowConfig | undefined): ReplayGuard | undefined {
    const current = this.replayGuards.get(rule);
    if (!window) {
      this.replayGuards.delete(rule);
      return undefined;
    }
    if (current && current.config.seconds === window.seconds && current.config.maxEnvelopes === window.maxEnvelopes) return current;
    const guard = new ReplayGuard(window);
    this.replayGuards.set(rule, guard);
    return guard;
  }

  /** One pipeline per connection: each routes only its own rules' messages. */
  private attachPipelines(runtime: Runtime): void {
    const transformer = new PayloadTransformer(this.sealer!, this.keys);
    for (const connection of runtime.connections.values()) {
      connection.pipeline = new BridgePipeline(connection.plan, connection.rules, this.deadLetters, transformer, this.stats, this.clientId);
    }
  }

  /**
   * Feeds a rule's dead letters back through its transform and destinations (without the MQTT
   * source), then closes everything; see DeadLetterReplayer.
   */
  async replay(rule: string, options: { dryRun: boolean; limit?: number }, onLine: (line: ReplayLine) => void): Promise<ReplayReport> {
    const runtime = this.runtime.rules.find((r) => r.name === rule);
    if (!runtime) throw new Error(`no rule named ${JSON.stringify(rule)} (rules: ${this.runtime.rules.map((r) => r.name).join(', ')})`);
    if (runtime.deadLetter.type !== 'kafka') {
      throw new Error(`rule ${rule} dead-letters to MQTT topic ${runtime.deadLetter.topic}; replay reads Kafka dead-letter topics only`);
    }
    await this.prepare();
    const pipeline = [...this.runtime.connections.values()].find((c) => c.rules.some((r) => r.name === rule))!.pipeline!;
    try {
      const kafka = this.kafkaFactory.createClient(kafkaClientConfig(this.runtime.loaded.config.kafka));
      const replayer = new DeadLetterReplayer(kafka, pipeline, this.writer, this.stats);
      return await replayer.run({ rule, deadLetterTopic: runtime.deadLetter.topic, ...options }, onLine);
    } finally {
      this.deadLetters.close();
      await this.writer.close(5_000);
      await this.keys.stop();
    }
  }

  /** Keys, crypto, pipelines and destinations: everything but the MQTT connections. */
  private async prepare(): Promise<void> {
    this.sealer = await EnvelopeSealer.create(this.sodium);
    await this.keys.start();
    this.attachPipelines(this.runtime);
    await this.writer.probe();
    for (const destination of this.runtime.destinations) await destination.connect();
  }

  async stop(drainMs = 10_000): Promise<void> {
    // Messages waiting for a schema registry that is down stay unacknowledged: ending the
    // waits first lets the drain finish instead of timing out on them.
    this.registries.close();
    // Kafka -> MQTT rules first: their dead letters may still need the source connection.
    await Promise.all(this.kafkaRules.map((rule) => rule.stop(drainMs)));
    // Isolated connections first: their dead letters may go to an MQTT topic through the main one.
    await Promise.all([...this.sources].filter(([key]) => key !== MAIN_CONNECTION).map(([, source]) => source.close(drainMs)));
    await this.mainSource.close(drainMs);
    this.deadLetters.close();
    for (const destination of this.runtime.destinations) await destination.close();
    await this.writer.close(Math.min(drainMs, 5_000));
    await this.keys.stop();
  }
}
