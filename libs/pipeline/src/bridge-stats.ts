/** Counters per rule, read by tests and (later) exported as metrics. */
export interface RuleCounters {
  received: number;
  delivered: number;
  deadLettered: number;
  /** Records of this rule in batches that were retried (one count per record and retry). */
  retried: number;
  /** Dead letters fed back by a replay. */
  replayed: number;
  /** Dead-lettered, by reason code. */
  reasons: Record<string, number>;
}

export class BridgeStats {
  private readonly rules = new Map<string, RuleCounters>();
  /** Copies no rule took (duplicates of overlapping subscriptions, skipped retained messages). */
  unrouted = 0;

  rule(name: string): RuleCounters {
    let counters = this.rules.get(name);
    if (!counters) {
      counters = { received: 0, delivered: 0, deadLettered: 0, retried: 0, replayed: 0, reasons: {} };
      this.rules.set(name, counters);
    }
    return counters;
  }

  deadLettered(rule: string, code: string): void {
    const counters = this.rule(rule);
    counters.deadLettered++;
    counters.reasons[code] = (counters.reasons[code] ?? 0) + 1;
  }

  replayed(rule: string): void {
    this.rule(rule).replayed++;
  }

  retried(rule: string): void {
    this.rule(rule).retried++;
  }

  snapshot(): Record<string, RuleCounters> {
    return Object.fromEntries([...this.rules].map(([name, c]) => [name, { ...c, reasons: { ...c.reasons } }]));
  }
}
