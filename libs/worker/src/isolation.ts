import { ParsedRule } from '@app/bridge-config';

/** The worker's own MQTT connection, which every rule not isolated shares. */
export const MAIN_CONNECTION = '';

/** A rule's `isolation` setting: see `connectionOf`. */
export type Isolation = 'auto' | 'own' | 'none';

/**
 * Which MQTT connection a rule's messages arrive on. Acknowledgements go out in arrival order
 * per connection (MQTT 4.6), so a message held by a destination that is down holds every
 * later acknowledgement of its connection, and once `maxInFlight` are held, intake stops. A
 * rule on a connection of its own holds only its own stream. `auto` gives one to every rule
 * with a destination other than Kafka (another MQTT broker, RabbitMQ, NATS): those fail on their
 * own, while Kafka is shared by all rules anyway.
 * @returns MAIN_CONNECTION, or the rule's name for a connection of its own.
 */
export function connectionOf(rule: {
  readonly name: string;
  readonly isolation: Isolation;
  readonly destinations: ReadonlyArray<{ readonly type: string }>;
}): string {
  const own = rule.isolation === 'own' || (rule.isolation === 'auto' && rule.destinations.some((d) => d.type !== 'kafka'));
  return own ? rule.name : MAIN_CONNECTION;
}

/** The MQTT client id of a connection: a fixed id per connection keeps each persistent session its own. */
export function connectionClientId(clientId: string, connection: string): string {
  return connection === MAIN_CONNECTION ? clientId : `${clientId}.${connection}`;
}

/**
 * A rule on a connection of its own shares its stream under a group name of its own: with the
 * configured name, the broker would count the worker's connections as members of one group and
 * split the rule's messages between them, handing some to a connection with no rule for them.
 */
export function onConnection(rule: ParsedRule, connection: string): ParsedRule {
  if (connection === MAIN_CONNECTION || rule.shareGroup === undefined) return rule;
  return { ...rule, shareGroup: `${rule.shareGroup}.${connection}` };
}
