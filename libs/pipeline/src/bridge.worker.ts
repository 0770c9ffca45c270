import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AmqpClientFactory } from '@app/amqp';
import { Destination } from '@app/core';
import { EnvelopeSealer, SodiumProvider } from '@app/crypto';
import { kafkaClientConfig, KafkaClientFactory, KafkaWriter } from '@app/kafka';
import { MqttClientFactory, MqttSource } from '@app/mqtt';
import { NatsClientFactory } from '@app/nats';
import { compileTemplate } from '@app/topic';
import { LoadedConfig } from './bridge-config.loader';
import { BridgeStats } from './bridge-stats';
import { BridgePipeline, RuntimeRule } from './bridge.pipeline';
import { sequentialIds, SubscriptionPlan } from './subscription-plan';
import { DeadLetterWriter } from './dead-letter.writer';
import { DeadLetterReplayer, ReplayLine, ReplayReport } from './dead-letter.replayer';
import { createDestination } from './destination.registry';
import { keySourceOpener } from './key-source.factory';
import { createKafkaRuleRunner, KafkaRuleRunner } from './kafka-rule.runner';
import { KeyringWatcher } from './keyring.watcher';
import { PayloadTransformer } from './payload.transformer';

/** What a configuration's rules turn into; replaced whole by a reload. */
interface Runtime {
  readonly loaded: LoadedConfig;
  readonly plan: SubscriptionPlan;
  readonly rules: readonly RuntimeRule[];
  readonly destinations: readonly Destination[];
  pipeline?: BridgePipeline;
}

/** Configuration sections a reload may change; the others hold connections and need a restart. */
const RELOADABLE = new Set(['rules', 'deadLetter']);

/** A reload that was refused; the running configuration stays. */
export class ReloadRefusedError extends Error {}

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
    oldestHeldSeconds: () => this.source.oldestUnacknowledgedMs / 1000,
    connections: () => ({ mqtt: this.source.connected, kafka: this.writer.reachable }),
    destinations: () => this.destinationStates(),
  });
  readonly clientId: string;
  private readonly writer: KafkaWriter;
  private readonly deadLetters: DeadLetterWriter;
  private readonly source: MqttSource;
  private readonly keys: KeyringWatcher;
  /** Kafka -> MQTT rules; they need a restart to change (a reload refuses `fromKafka` changes). */
  private readonly kafkaRules: readonly KafkaRuleRunner[];
  /** Subscription identifiers stay with their filter across reloads. */
  private readonly subscriptionIds = sequentialIds();
  private runtime: Runtime;
  /** Readiness fails once the oldest unacknowledged message has been held this long. */
  private readonly maxHeldMs: number;
  private readonly amqpFactory = new AmqpClientFactory();
  private readonly natsFactory = new NatsClientFactory();
  private sealer?: EnvelopeSealer;

  constructor(
    loaded: LoadedConfig,
    private readonly mqttFactory: MqttClientFactory,
    private readonly kafkaFactory: KafkaClientFactory,
    private readonly sodium: SodiumProvider = new SodiumProvider(),
  ) {
    const { config } = loaded;
    this.maxHeldMs = config.http.maxHeldSeconds * 1000;
    this.clientId = config.mqtt.clientId ?? `mqtt-bridge-${randomBytes(4).toString('hex')}`;
    this.writer = new KafkaWriter(kafkaFactory, config.kafka, (records) => {
      for (const record of records) if (record.rule) this.stats.retried(record.rule);
    });
    this.runtime = this.build(loaded);
    this.deadLetters = new DeadLetterWriter(this.writer, (topic, payload, options) => this.source.publish(topic, payload, options), config.kafka.producer.retry);
    this.keys = new KeyringWatcher(
      keySourceOpener(config.keys, loaded.secrets, { sodium, kafka: config.kafka, kafkaFactory, clientId: this.clientId }),
      loaded.keys,
      config.keys?.reloadIntervalMs,
      (ok) => this.stats.keyReload(ok),
    );
    const statusTopic = config.mqtt.status
      ? compileTemplate(config.mqtt.status.topic, []).render({ topic: '', levels: [], captures: {}, qos: 0, rule: '', clientId: this.clientId })
      : undefined;
    this.source = new MqttSource(mqttFactory, {
      config: config.mqtt,
      clientId: this.clientId,
      subscriptions: this.runtime.plan.subscriptions,
      statusTopic,
      onConnectFailure: () => this.stats.mqttConnectFailed(),
    });
    this.kafkaRules = config.fromKafka.map((rule) =>
      createKafkaRuleRunner(rule, {
        kafka: config.kafka,
        mqtt: config.mqtt,
        deadLetter: config.deadLetter,
        kafkaFactory,
        mqttFactory,
        // Always the current pipeline, as for MQTT messages.
        deliver: (runtimeRule, message, context, origin) => this.runtime.pipeline!.deliver(runtimeRule, message, context, origin),
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
    return this.source.inFlight + this.kafkaRules.reduce((n, rule) => n + rule.inFlight, 0);
  }

  /**
   * Readiness: the MQTT connection is up, Kafka answered within the last second, every Kafka -> MQTT
   * rule is in its group and connected, and no message has been held unacknowledged longer than
   * `http.maxHeldSeconds` (it holds every acknowledgement behind it).
   */
  async readiness(): Promise<{
    /** Each destination by name, for the operator: a secondary destination down does not make the worker unready (see README). */
    destinations: Record<string, boolean>;
    mqtt: boolean;
    mqttProblem?: { failedAttempts: number; reason: string };
    kafka: boolean;
    fromKafka: boolean;
    held: { oldestSeconds: number; maxSeconds: number; ok: boolean };
  }> {
    const oldest = this.source.oldestUnacknowledgedMs;
    return {
      destinations: Object.fromEntries(this.destinationStates().map((d) => [d.destination, d.up])),
      mqtt: this.source.connected,
      mqttProblem: this.source.connectionProblem,
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

  async start(): Promise<void> {
    await this.prepare();
    // Always the current pipeline: a reload swaps it while the connection stays.
    await this.source.connect((inbound) => this.runtime.pipeline!.handle(inbound));
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
    const previous = this.runtime;
    const runtime = this.build(next);
    for (const destination of runtime.destinations) await destination.connect();
    runtime.pipeline = this.pipelineFor(runtime);
    this.runtime = runtime;
    await this.source.updateSubscriptions(runtime.plan.subscriptions);
    this.announce('reloaded: bridging');
    const deadline = Date.now() + 30_000;
    while ((previous.pipeline?.pending ?? 0) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const destination of previous.destinations) await destination.close();
  }

  private announce(what: string): void {
    const { plan, loaded } = this.runtime;
    const fromKafka = this.kafkaRules.length > 0 ? ` and ${this.kafkaRules.length} Kafka -> MQTT rule(s)` : '';
    this.log.log(`${what} ${plan.subscriptions.map((s) => s.filter).join(', ')} with ${loaded.rules.length} rule(s)${fromKafka} from ${loaded.file}`);
  }

  /** Rules, destinations and routing plan of a configuration, sharing this worker's connections. */
  private build(loaded: LoadedConfig): Runtime {
    const { config } = loaded;
    const resources = { kafkaWriter: () => this.writer, mqttFactory: () => this.mqttFactory, amqpFactory: () => this.amqpFactory, natsFactory: () => this.natsFactory };
    const destinations: Destination[] = [];
    const rules = loaded.rules.map((rule, r): RuntimeRule => {
      const ruleConfig = config.rules[r];
      const own = ruleConfig.destinations.map((d, i) => createDestination(d, `${rule.name}/${d.type}[${i}]`, rule.captures, resources));
      destinations.push(...own);
      return { name: rule.name, destinations: own, deadLetter: ruleConfig.deadLetter ?? config.deadLetter, transform: ruleConfig.transform };
    });
    return { loaded, plan: new SubscriptionPlan(loaded.rules, this.subscriptionIds), rules, destinations };
  }

  private pipelineFor(runtime: Runtime): BridgePipeline {
    return new BridgePipeline(runtime.plan, runtime.rules, this.deadLetters, new PayloadTransformer(this.sealer!, this.keys), this.stats, this.clientId);
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
    const pipeline = await this.prepare();
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

  /** Keys, crypto and destinations: everything but the MQTT source. */
  private async prepare(): Promise<BridgePipeline> {
    this.sealer = await EnvelopeSealer.create(this.sodium);
    await this.keys.start();
    const pipeline = this.pipelineFor(this.runtime);
    this.runtime.pipeline = pipeline;
    await this.writer.probe();
    for (const destination of this.runtime.destinations) await destination.connect();
    return pipeline;
  }

  async stop(drainMs = 10_000): Promise<void> {
    // Kafka -> MQTT rules first: their dead letters may still need the source connection.
    await Promise.all(this.kafkaRules.map((rule) => rule.stop(drainMs)));
    await this.source.close(drainMs);
    this.deadLetters.close();
    for (const destination of this.runtime.destinations) await destination.close();
    await this.writer.close(Math.min(drainMs, 5_000));
    await this.keys.stop();
  }
}
