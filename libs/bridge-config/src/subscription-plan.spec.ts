import { parseTopicFilter } from '@app/topic';
import { PlannedRule, SubscriptionPlan } from './subscription-plan';

function rule(filters: string[], extra: Partial<PlannedRule> = {}): PlannedRule {
  return { filters: filters.map(parseTopicFilter), qos: 1, skipRetained: false, ...extra };
}

describe('SubscriptionPlan', () => {
  it('subscribes each distinct filter once, with the strongest QoS of its owners', () => {
    const plan = new SubscriptionPlan([rule(['a/{x}'], { qos: 0 }), rule(['a/{y}'], { qos: 2 }), rule(['b/#'])]);
    expect(plan.subscriptions.map((s) => [s.id, s.filter, s.qos, s.owners])).toEqual([
      [1, 'a/+', 2, [0, 1]],
      [2, 'b/#', 1, [2]],
    ]);
  });

  it('prefixes shared subscriptions and keeps them apart from plain ones', () => {
    const plan = new SubscriptionPlan([rule(['a/#'], { shareGroup: 'g' }), rule(['a/#'])]);
    expect(plan.subscriptions.map((s) => s.filter)).toEqual(['$share/g/a/#', 'a/#']);
    // A copy delivered for the plain subscription only is not the shared rule's.
    expect(plan.route('a/1', false, [2]).map((m) => m.rule)).toEqual([1]);
    expect(plan.route('a/1', false, [1]).map((m) => m.rule)).toEqual([0]);
  });

  it('hands a message once to each rule whether the broker sends one copy or one per subscription', () => {
    const plan = new SubscriptionPlan([rule(['t/#', 't/+/x']), rule(['t/+/x']), rule(['t/a/x'])]);
    // ids: t/# = 1, t/+/x = 2, t/a/x = 3
    const perCopy = [[1], [2], [3]].flatMap((ids) => plan.route('t/a/x', false, ids).map((m) => m.rule));
    expect(perCopy.sort()).toEqual([0, 1, 2]);
    expect(plan.route('t/a/x', false, [1, 2, 3]).map((m) => m.rule)).toEqual([0, 1, 2]);
    expect(plan.route('t/b/y', false, [1]).map((m) => m.rule)).toEqual([0]);
  });

  it('routes every matching rule when the source cannot tell subscriptions apart', () => {
    const plan = new SubscriptionPlan([rule(['s/{site}/{metric}']), rule(['q/#'])]);
    expect(plan.route('s/lyon/temp', false)).toEqual([{ rule: 0, captures: { site: 'lyon', metric: 'temp' } }]);
    expect(plan.route('z', false)).toEqual([]);
  });

  it("takes captures from the rule's own filter when two rules share a subscription", () => {
    const plan = new SubscriptionPlan([rule(['a/{x}']), rule(['a/{y}'])]);
    expect(plan.route('a/v', false, [1])).toEqual([
      { rule: 0, captures: { x: 'v' } },
      { rule: 1, captures: { y: 'v' } },
    ]);
  });

  it('skips retained messages for rules that ask, and tells the broker when all owners do', () => {
    const plan = new SubscriptionPlan([rule(['r/#'], { skipRetained: true }), rule(['k/#'])]);
    expect(plan.subscriptions.map((s) => s.retainHandling)).toEqual([2, 1]);
    expect(plan.route('r/1', true, [1])).toEqual([]);
    expect(plan.route('r/1', false, [1])).toHaveLength(1);
    expect(plan.route('k/1', true, [2])).toHaveLength(1);
  });

  it('lists overlapping subscriptions (a problem on MQTT 3.1.1 only)', () => {
    const plan = new SubscriptionPlan([rule(['a/+/c', 'x/y']), rule(['a/b/+'])]);
    expect(plan.overlaps().map(([a, b]) => [a.filter, b.filter])).toEqual([['a/+/c', 'a/b/+']]);
  });
});
