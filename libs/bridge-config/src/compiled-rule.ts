import { QoS } from '@app/core';
import { parseTopicFilter, TopicFilter } from '@app/topic';
import { RuleConfig } from './bridge-config.schema';

/** A rule's filters parsed, with the capture names every one of them defines. */
export interface ParsedRule {
  readonly name: string;
  readonly filters: readonly TopicFilter[];
  /** Captures usable in templates: those defined by all of the rule's filters. */
  readonly captures: readonly string[];
  readonly shareGroup?: string;
  readonly qos: QoS;
  readonly skipRetained: boolean;
}

/** Parses a rule that passed validation (its filters are known to be valid). */
export function parseRule(rule: RuleConfig): ParsedRule {
  const filters = rule.filters.map(parseTopicFilter);
  const captures = filters[0].captures.filter((name) => filters.every((f) => f.captures.includes(name)));
  return { name: rule.name, filters, captures, shareGroup: rule.shareGroup, qos: rule.qos, skipRetained: rule.retained === 'skip' };
}
