import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Destination } from '@app/core';
import { EnvelopeSealer, FileKeyStore, SodiumProvider } from '@app/crypto';
import { kafkaClientConfig, KafkaClientFactory, KafkaWriter } from '@app/kafka';
import { MqttClientFactory, MqttSource } from '@app/mqtt';
import { compileTemplate } from '@app/topic';
import { LoadedConfig } from './bridge-config.loader';
import { BridgeStats } from './bridge-stats';
import { BridgePipeline, RuntimeRule } from './bridge.pipeline';
import { DeadLetterWriter } from './dead-letter.writer';
import { DeadLetterReplayer, ReplayLine, ReplayReport } from './dead-letter.replayer';
import { createDestination } from './destination.registry';
import { KeyringWatcher } from './keyring.watcher';
import { PayloadTransformer } from './payload.transformer';

/**
 * One bridge worker: an MQTT source, the rules' destinations, the dead-letter writer and
 * the pipeline between them. `start()` connects everything and subscribes; `stop()`
 * stops intake, lets in-flight messages finish within `drainMs`, then disconnects.
 */
export class BridgeWorker {
  private readonly log = new Logger(BridgeWorker.name);
  readonly stats = new BridgeStats({
    inFlight: () => this.source.inFlight,
    connections: () => ({ mqtt: this.source.connected, kafka: this.writer.reachable }),
  });
  readonly clientId: string;
  private readonly writer: KafkaWriter;
  private readonly destinations: Destination[] = [];
  private readonly deadLetters: DeadLetterWriter;
  private readonly source: MqttSource;
  private readonly keys: KeyringWatcher;
  private readonly rules: RuntimeRule[];

  constructor(
    private readonly loaded: LoadedConfig,
    mqttFactory: MqttClientFactory,
    private readonly kafkaFactory: KafkaClientFactory,
    private readonly sodium: SodiumProvider = new SodiumProvider(),
  ) {
    const { config, plan } = loaded;
    this.clientId = config.mqtt.clientId ?? `mqtt-bridge-${randomBytes(4).toString('hex')}`;
    this.writer = new KafkaWriter(kafkaFactory, config.kafka, (records) => {
      for (const record of records) if (record.rule) this.stats.retried(record.rule);
    });
    const resources = { kafkaWriter: () => this.writer };
    this.rules = loaded.rules.map((rule, r) => {
      const ruleConfig = config.rules[r];
      const destinations = ruleConfig.destinations.map((d, i) =>
        createDestination(d, `${rule.name}/${d.type}[${i}]`, rule.captures, resources),
      );
      this.destinations.push(...destinations);
      return {
        name: rule.name,
        destinations,
        deadLetter: ruleConfig.deadLetter ?? config.deadLetter,
        transform: ruleConfig.transform,
      };
    });
    this.deadLetters = new DeadLetterWriter(this.writer, (topic, payload, options) => this.source.publish(topic, payload, options), config.kafka.producer.retry);
    this.keys = new KeyringWatcher(
      config.keys ? new FileKeyStore(config.keys.file) : undefined,
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
      subscriptions: plan.subscriptions,
      statusTopic,
    });
  }

  get inFlight(): number {
    return this.source.inFlight;
  }

  /** Readiness: the MQTT connection is up and Kafka answered within the last second. */
  async readiness(): Promise<{ mqtt: boolean; kafka: boolean }> {
    return { mqtt: this.source.connected, kafka: await this.writer.probe(1_000) };
  }

  async start(): Promise<void> {
    const pipeline = await this.prepare();
    await this.source.connect((inbound) => pipeline.handle(inbound));
    this.log.log(
      `bridging ${this.loaded.plan.subscriptions.map((s) => s.filter).join(', ')} with ${this.loaded.rules.length} rule(s) from ${this.loaded.file}`,
    );
  }

  /**
   * Feeds a rule's dead letters back through its transform and destinations (without the MQTT
   * source), then closes everything; see DeadLetterReplayer.
   */
  async replay(rule: string, options: { dryRun: boolean; limit?: number }, onLine: (line: ReplayLine) => void): Promise<ReplayReport> {
    const runtime = this.rules.find((r) => r.name === rule);
    if (!runtime) throw new Error(`no rule named ${JSON.stringify(rule)} (rules: ${this.rules.map((r) => r.name).join(', ')})`);
    if (runtime.deadLetter.type !== 'kafka') {
      throw new Error(`rule ${rule} dead-letters to MQTT topic ${runtime.deadLetter.topic}; replay reads Kafka dead-letter topics only`);
    }
    const pipeline = await this.prepare();
    try {
      const kafka = this.kafkaFactory.createClient(kafkaClientConfig(this.loaded.config.kafka));
      const replayer = new DeadLetterReplayer(kafka, pipeline, this.writer, this.stats);
      return await replayer.run({ rule, deadLetterTopic: runtime.deadLetter.topic, ...options }, onLine);
    } finally {
      this.deadLetters.close();
      await this.writer.close(5_000);
      this.keys.stop();
    }
  }

  /** Keys, crypto and destinations: everything but the MQTT source. */
  private async prepare(): Promise<BridgePipeline> {
    const sealer = await EnvelopeSealer.create(this.sodium);
    await this.keys.start();
    const pipeline = new BridgePipeline(
      this.loaded.plan,
      this.rules,
      this.deadLetters,
      new PayloadTransformer(sealer, this.keys),
      this.stats,
      this.clientId,
    );
    await this.writer.probe();
    for (const destination of this.destinations) await destination.connect();
    return pipeline;
  }

  async stop(drainMs = 10_000): Promise<void> {
    await this.source.close(drainMs);
    this.deadLetters.close();
    for (const destination of this.destinations) await destination.close();
    await this.writer.close(Math.min(drainMs, 5_000));
    this.keys.stop();
  }
}
