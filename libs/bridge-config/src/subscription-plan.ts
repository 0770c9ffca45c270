import { QoS } from '@app/core';
import { filtersIntersect, matchTopic, TopicFilter } from '@app/topic';

/** What the plan needs to know of a rule. */
export interface PlannedRule {
  readonly filters: readonly TopicFilter[];
  readonly shareGroup?: string;
  readonly qos: QoS;
  readonly skipRetained: boolean;
}

export interface PlannedSubscription {
  readonly id: number;
  /** As sent in SUBSCRIBE, with the `$share/<group>/` prefix when shared. */
  readonly filter: string;
  readonly topicFilter: TopicFilter;
  readonly shareGroup?: string;
  readonly qos: QoS;
  readonly retainHandling: 0 | 1 | 2;
  /** Indexes of the rules that hold this subscription. */
  readonly owners: readonly number[];
}

/** A rule that takes a message, with the values its filter captured. */
export interface RouteMatch {
  readonly rule: number;
  readonly captures: Readonly<Record<string, string>>;
}

/**
 * Which subscriptions to hold and which rules take each delivered copy.
 *
 * A broker may deliver one copy per matching subscription (Mosquitto does) or one copy for
 * all of them. So that a message is handled exactly once by every rule it matches, each
 * rule takes a copy only when the copy was delivered for that rule's lowest-numbered
 * subscription matching the topic (MQTT 5 subscription identifiers). On MQTT 3.1.1 there
 * are no identifiers, so subscriptions that could both match one topic are refused at
 * validation (see `overlaps`).
 */
export class SubscriptionPlan {
  readonly subscriptions: readonly PlannedSubscription[];
  /** Per rule, its subscriptions in id order. */
  private readonly ruleSubs: ReadonlyArray<readonly PlannedSubscription[]>;

  /**
   * `idFor` gives each full filter its subscription identifier; a worker passes one that keeps
   * identifiers stable across reloads, so copies in flight during a reload still route.
   */
  constructor(
    private readonly rules: readonly PlannedRule[],
    idFor: (filter: string) => number = sequentialIds(),
  ) {
    const byKey = new Map<string, { sub: PlannedSubscription; owners: number[] }>();
    rules.forEach((rule, index) => {
      for (const filter of rule.filters) {
        const full = rule.shareGroup ? `$share/${rule.shareGroup}/${filter.mqtt}` : filter.mqtt;
        const existing = byKey.get(full);
        if (existing) {
          existing.owners.push(index);
          continue;
        }
        byKey.set(full, {
          sub: { id: idFor(full), filter: full, topicFilter: filter, shareGroup: rule.shareGroup, qos: rule.qos, retainHandling: 0, owners: [] },
          owners: [index],
        });
      }
    });
    // A shared subscription is shared by its owners: the strongest QoS wins, and retained
    // messages are skipped at the broker only when no owner wants them.
    this.subscriptions = [...byKey.values()]
      .map(({ sub, owners }): PlannedSubscription => ({
        ...sub,
        owners,
        qos: Math.max(...owners.map((o) => rules[o].qos)) as QoS,
        retainHandling: owners.every((o) => rules[o].skipRetained) ? 2 : 1,
      }))
      .sort((a, b) => a.id - b.id);
    this.ruleSubs = rules.map((rule) =>
      this.subscriptions.filter((s) => s.shareGroup === rule.shareGroup && rule.filters.some((f) => f.mqtt === s.topicFilter.mqtt)),
    );
  }

  /**
   * The rules that take this copy. `subscriptionIds` undefined means the source cannot
   * tell (MQTT 3.1.1), where the plan guarantees at most one subscription matches.
   */
  route(topic: string, retain: boolean, subscriptionIds?: readonly number[]): RouteMatch[] {
    const out: RouteMatch[] = [];
    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r];
      if (retain && rule.skipRetained) continue;
      const captures = this.firstMatch(r, topic, subscriptionIds);
      if (captures) out.push({ rule: r, captures });
    }
    return out;
  }

  /** Pairs of subscriptions that one topic could match both of; a problem only without subscription identifiers. */
  overlaps(): Array<[PlannedSubscription, PlannedSubscription]> {
    const pairs: Array<[PlannedSubscription, PlannedSubscription]> = [];
    const subs = this.subscriptions;
    for (let i = 0; i < subs.length; i++) {
      for (let j = i + 1; j < subs.length; j++) {
        if (filtersIntersect(subs[i].topicFilter, subs[j].topicFilter)) pairs.push([subs[i], subs[j]]);
      }
    }
    return pairs;
  }

  private firstMatch(rule: number, topic: string, ids?: readonly number[]): Record<string, string> | undefined {
    for (const sub of this.ruleSubs[rule]) {
      const captures = matchTopic(sub.topicFilter, topic);
      if (!captures) continue;
      // The rule's lowest matching subscription decides; other copies are duplicates for this rule.
      if (ids !== undefined && !ids.includes(sub.id)) return undefined;
      // Captures come from the rule's own first filter that matches, whichever subscription
      // carried it; in the common case (one filter, its own subscription) that is this match.
      const own = this.rules[rule].filters;
      if (own.length === 1 && own[0] === sub.topicFilter) return captures;
      return this.ruleCaptures(rule, topic) ?? captures;
    }
    return undefined;
  }

  /** The captures of a rule's first filter matching `topic`, or undefined when none matches. */
  captures(rule: number, topic: string): Record<string, string> | undefined {
    return this.ruleCaptures(rule, topic);
  }

  private ruleCaptures(rule: number, topic: string): Record<string, string> | undefined {
    for (const filter of this.rules[rule].filters) {
      const captures = matchTopic(filter, topic);
      if (captures) return captures;
    }
    return undefined;
  }
}

/** Identifiers 1, 2, 3... in order of first request, the same one for a filter asked twice. */
export function sequentialIds(): (filter: string) => number {
  const ids = new Map<string, number>();
  return (filter) => {
    let id = ids.get(filter);
    if (id === undefined) {
      id = ids.size + 1;
      ids.set(filter, id);
    }
    return id;
  };
}
