import { Logger } from '@nestjs/common';
import { BridgeMessage, classify, Destination, garbledProperty, Inbound, MalformedMessageError, ShutdownError } from '@app/core';
import { TemplateContext } from '@app/topic';
import { DeadLetterTarget, SubscriptionPlan, TransformConfig } from '@app/bridge-config';
import { BridgeStats } from './bridge-stats';
import { DeadLetterWriter } from './dead-letter.writer';
import { PayloadTransformer, PreparedPayload, usesSchema } from './payload.transformer';
import { addressesOf, previewRule, ruleContext } from './rule.preview';
import { TransformProgram } from '@app/transform';
import { SchemaDecoder, SchemaEncoder } from '@app/registry';
import { ReplayGuard } from './replay.guard';

const NO_HEADERS: Readonly<Record<string, string | Buffer>> = Object.freeze({});

/** What happened to one message under one rule. */
export interface RuleOutcome {
  /** Destinations that confirmed the record (dry run: where it would go). */
  readonly delivered: string[];
  /** Reason codes of what was dead-lettered (dry run: what would fail). */
  readonly failed: string[];
  /** Set when a filter step dropped the message (nothing written, acknowledged): that step's label. */
  filtered?: string;
}

/** A rule ready to run: its destinations built, its dead-letter topic resolved. */
export interface RuntimeRule {
  readonly name: string;
  readonly destinations: readonly Destination[];
  readonly deadLetter: DeadLetterTarget;
  readonly transform: TransformConfig;
  /** The rule's process section, compiled at validation. */
  readonly process?: TransformProgram;
  /** The rule's replay window, kept across reloads. */
  readonly replayGuard?: ReplayGuard;
  /** The rule's schema stage (process.schema), when its input or output is avro or protobuf. */
  readonly schemaDecoder?: SchemaDecoder;
  readonly schemaEncoder?: SchemaEncoder;
}

/**
 * Routes each inbound message to every rule that takes it, writes it to each rule's
 * destinations, dead-letters what a destination refuses, and acknowledges the message
 * once all of that is confirmed. Nothing here waits for one message before taking the
 * next: ordering is the destinations' job, acknowledgement order the source's.
 */
export class BridgePipeline {
  private readonly log = new Logger(BridgePipeline.name);
  private pendingCount = 0;

  constructor(
    private readonly plan: SubscriptionPlan,
    private readonly rules: readonly RuntimeRule[],
    private readonly deadLetters: DeadLetterWriter,
    private readonly transformer: PayloadTransformer,
    private readonly stats: BridgeStats,
    private readonly clientId: string,
  ) {}

  /** Messages handed to this pipeline and not settled yet (a reload waits for them). */
  get pending(): number {
    return this.pendingCount;
  }

  handle(inbound: Inbound): void {
    const { message } = inbound;
    const routes = this.plan.route(message.topic, message.retain, inbound.subscriptionIds);
    if (routes.length === 0) {
      this.stats.unroutedCopy();
      inbound.ack();
      return;
    }
    const levels = message.topic.split('/');
    const deliver = (route: (typeof routes)[number]) => {
      const rule = this.rules[route.rule];
      return this.deliver(rule, message, this.contextFor(rule, message, levels, route.captures));
    };
    // One route is the common case: skip the Promise.all it would otherwise allocate.
    const work: Promise<unknown> = routes.length === 1 ? deliver(routes[0]) : Promise.all(routes.map(deliver));
    this.pendingCount++;
    // One then() with both branches, not finally() and then(): a promise fewer per message.
    work.then(
      () => {
        this.pendingCount--;
        inbound.ack();
      },
      (error: unknown) => {
        this.pendingCount--;
        // Only a shutdown gets here: the message stays unacknowledged and is redelivered.
        if (!(error instanceof ShutdownError)) this.log.error({ msg: 'message left unacknowledged', topic: message.topic, detail: String(error) });
      },
    );
  }

  /**
   * Runs one message through one rule outside the MQTT flow (replay of a dead letter).
   * With `dryRun` nothing is written: the outcome says where the message would go or why it
   * would fail.
   */
  async replay(ruleName: string, message: BridgeMessage, dryRun: boolean): Promise<RuleOutcome | undefined> {
    const index = this.rules.findIndex((r) => r.name === ruleName);
    const captures = index < 0 ? undefined : this.plan.captures(index, message.topic);
    if (!captures) return undefined;
    const context = this.contextFor(this.rules[index], message, message.topic.split('/'), captures);
    return dryRun ? await this.describe(this.rules[index], message, context) : this.deliver(this.rules[index], message, context);
  }

  private contextFor(rule: RuntimeRule, message: BridgeMessage, levels: string[], captures: Readonly<Record<string, string>>): TemplateContext {
    return ruleContext(rule.name, message, levels, captures, this.clientId);
  }

  /**
   * Runs one message through one rule: transform, every destination, dead letters (with
   * `origin` as extra fields). Resolves once all of it is confirmed; rejects with a ShutdownError
   * (or whatever a dead-letter write failed with while stopping) when it could not finish.
   */
  async deliver(rule: RuntimeRule, message: BridgeMessage, context: TemplateContext, origin?: Readonly<Record<string, string>>): Promise<RuleOutcome> {
    this.stats.received(rule.name);
    const outcome: RuleOutcome = { delivered: [], failed: [] };
    const garbled = garbledProperty(message.properties);
    if (garbled) {
      const error = new MalformedMessageError(`the MQTT 5 ${garbled} was not valid UTF-8 (replaced by U+FFFD on receipt)`, 'invalid-utf8');
      outcome.failed.push(await this.deadLetter(rule, message, 'source', error, origin));
      return outcome;
    }
    let payload: PreparedPayload;
    try {
      payload = usesSchema(rule)
        ? await this.transformer.prepareWithSchema(rule, message, context, (document) => addressesOf(rule, message, { ...context, document }))
        : this.transformer.prepare(rule, message, context);
    } catch (error) {
      if (error instanceof ShutdownError) throw error;
      outcome.failed.push(await this.deadLetter(rule, message, 'transform', error, origin));
      return outcome;
    }
    if (payload.filteredBy !== undefined) {
      this.stats.filtered(rule.name);
      outcome.filtered = payload.filteredBy;
      return outcome;
    }
    if (payload.document !== undefined) context = { ...context, document: payload.document };
    const writeTo = async (destination: Destination): Promise<void> => {
      try {
        await destination.write({ message, rule: rule.name, context, payload: payload.forAddress, headers: payload.headers ?? NO_HEADERS });
        this.stats.delivered(rule.name, destination.name, message.receivedAt);
        outcome.delivered.push(destination.name);
      } catch (error) {
        if (error instanceof ShutdownError) throw error;
        outcome.failed.push(await this.deadLetter(rule, message, destination.name, error, origin));
      }
    };
    try {
      const targets = rule.destinations;
      await (targets.length === 1 ? writeTo(targets[0]) : Promise.all(targets.map(writeTo)));
    } finally {
      payload.dispose();
    }
    return outcome;
  }

  private async describe(rule: RuntimeRule, message: BridgeMessage, context: TemplateContext): Promise<RuleOutcome> {
    const preview = await previewRule(this.transformer, rule, message, context);
    const outcome: RuleOutcome = { delivered: preview.outputs.map((o) => o.preview.summary), failed: preview.failures.map((f) => f.failure.code) };
    if (preview.filtered !== undefined) outcome.filtered = preview.filtered;
    return outcome;
  }

  /** Sets the original message aside with its reason; resolves once the dead letter is confirmed. */
  private async deadLetter(
    rule: RuntimeRule,
    message: BridgeMessage,
    stage: string,
    error: unknown,
    origin?: Readonly<Record<string, string>>,
  ): Promise<string> {
    const failure = classify(error);
    this.log.warn({ msg: 'dead-lettering', rule: rule.name, topic: message.topic, stage, reason: failure.code, detail: failure.message });
    await this.deadLetters.write({ message, rule: rule.name, destination: stage, failure, target: rule.deadLetter, origin });
    this.stats.deadLettered(rule.name, failure.code, stage);
    return failure.code;
  }
}
