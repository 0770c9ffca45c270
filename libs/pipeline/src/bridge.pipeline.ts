import { Logger } from '@nestjs/common';
import { BridgeMessage, classify, Destination, Inbound, ShutdownError } from '@app/core';
import { TemplateContext } from '@app/topic';
import { BridgeStats } from './bridge-stats';
import { DeadLetterWriter } from './dead-letter.writer';
import { PayloadTransformer, PreparedPayload } from './payload.transformer';
import { SubscriptionPlan } from './subscription-plan';
import { TransformConfig } from './transform.schema';

/** A rule ready to run: its destinations built, its dead-letter topic resolved. */
export interface RuntimeRule {
  readonly name: string;
  readonly destinations: readonly Destination[];
  readonly deadLetterTopic: string;
  readonly transform: TransformConfig;
}

/**
 * Routes each inbound message to every rule that takes it, writes it to each rule's
 * destinations, dead-letters what a destination refuses, and acknowledges the message
 * once all of that is confirmed. Nothing here waits for one message before taking the
 * next: ordering is the destinations' job, acknowledgement order the source's.
 */
export class BridgePipeline {
  private readonly log = new Logger(BridgePipeline.name);

  constructor(
    private readonly plan: SubscriptionPlan,
    private readonly rules: readonly RuntimeRule[],
    private readonly deadLetters: DeadLetterWriter,
    private readonly transformer: PayloadTransformer,
    private readonly stats: BridgeStats,
    private readonly clientId: string,
  ) {}

  handle(inbound: Inbound): void {
    const { message } = inbound;
    const routes = this.plan.route(message.topic, message.retain, inbound.subscriptionIds);
    if (routes.length === 0) {
      this.stats.unrouted++;
      inbound.ack();
      return;
    }
    const levels = message.topic.split('/');
    const work = routes.map((route) =>
      this.deliver(this.rules[route.rule], message, {
        topic: message.topic,
        levels,
        captures: route.captures,
        qos: message.qos,
        rule: this.rules[route.rule].name,
        clientId: this.clientId,
      }),
    );
    Promise.all(work).then(
      () => inbound.ack(),
      (error: unknown) => {
        // Only a shutdown gets here: the message stays unacknowledged and is redelivered.
        if (!(error instanceof ShutdownError)) this.log.error(`message on ${message.topic} left unacknowledged: ${String(error)}`);
      },
    );
  }

  private async deliver(rule: RuntimeRule, message: BridgeMessage, context: TemplateContext): Promise<void> {
    const counters = this.stats.rule(rule.name);
    counters.received++;
    let payload: PreparedPayload;
    try {
      payload = this.transformer.prepare(rule.transform, message);
    } catch (error) {
      await this.deadLetter(rule, message, 'transform', error);
      return;
    }
    try {
      await Promise.all(
        rule.destinations.map(async (destination) => {
          try {
            await destination.write({ message, rule: rule.name, context, payload: payload.forAddress, headers: {} });
            counters.delivered++;
          } catch (error) {
            if (error instanceof ShutdownError) throw error;
            await this.deadLetter(rule, message, destination.name, error);
          }
        }),
      );
    } finally {
      payload.dispose();
    }
  }

  /** Sets the original message aside with its reason; resolves once the dead letter is confirmed. */
  private async deadLetter(rule: RuntimeRule, message: BridgeMessage, stage: string, error: unknown): Promise<void> {
    const failure = classify(error);
    this.log.warn(`rule ${rule.name}: ${stage} failed for ${message.topic} (${failure.code}): ${failure.message}; dead-lettering`);
    await this.deadLetters.write({ message, rule: rule.name, destination: stage, failure, topic: rule.deadLetterTopic });
    this.stats.deadLettered(rule.name, failure.code);
  }
}
