import { byteLengthProblem, findForbiddenCharacter, levelNumberAt } from './mqtt-string';
import { quote } from './quote';

export { matchTopic } from './topic-match';
export { filterCovers, filtersIntersect } from './filter-relations';
export { validateTopicName, validateTopicTemplate } from './topic-name';

/** One '/'-separated level of a parsed filter. Named wildcards are our `{name}` / `{name#}` extension. */
export type FilterLevel =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'single'; readonly name?: string }
  | { readonly kind: 'multi'; readonly name?: string };

/** A validated MQTT topic filter, possibly with named captures. */
export interface TopicFilter {
  /** The filter as written in configuration, e.g. `sensors/{site}/+/{metric}`. */
  readonly source: string;
  /** The plain MQTT filter subscribed at the broker, e.g. `sensors/+/+/+`. */
  readonly mqtt: string;
  readonly levels: readonly FilterLevel[];
  /** Capture names in the order they appear. */
  readonly captures: readonly string[];
}

/** A topic filter that cannot be used; the message says what is wrong and where. */
export class TopicFilterError extends Error {
  constructor(
    /** The filter as written. */
    readonly filter: string,
    detail: string,
    /** 1-based level the problem is in; undefined when it concerns the whole filter. */
    readonly level?: number,
  ) {
    super(`invalid topic filter ${quote(filter)}: ${detail}`);
    this.name = 'TopicFilterError';
  }
}

const SHARE_PREFIX = '$share/';
const CAPTURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CAPTURE_FORM = /^\{([^{}]*)\}$/;

/**
 * Parses and validates a topic filter per MQTT 5.0 section 4.7, plus named captures.
 * @throws TopicFilterError on the first problem found.
 */
export function parseTopicFilter(source: string): TopicFilter {
  checkWholeFilter(source);
  const texts = source.split('/');
  const levels: FilterLevel[] = [];
  const captures: string[] = [];
  const captureLevels = new Map<string, number>();

  texts.forEach((text, i) => {
    const level = parseLevel(source, text, i, texts.length);
    if (level.kind !== 'literal' && level.name !== undefined) {
      const earlier = captureLevels.get(level.name);
      if (earlier !== undefined) {
        throw new TopicFilterError(
          source,
          `capture name ${quote(level.name)} is used at level ${earlier} and again at level ${i + 1}; ` + 'capture names must be unique within a filter',
          i + 1,
        );
      }
      captureLevels.set(level.name, i + 1);
      captures.push(level.name);
    }
    levels.push(Object.freeze(level));
  });

  return Object.freeze({
    source,
    mqtt: levels.map(toMqttLevel).join('/'),
    levels: Object.freeze(levels),
    captures: Object.freeze(captures),
  });
}

function checkWholeFilter(source: string): void {
  if (source.length === 0) {
    throw new TopicFilterError(source, 'a filter must not be empty; use "#" to match every topic');
  }
  if (source.startsWith(SHARE_PREFIX)) {
    throw new TopicFilterError(
      source,
      'shared subscriptions are not written in the filter; remove the "$share/<group>/" prefix ' + "and set the rule's shareGroup field instead",
    );
  }
  const tooLong = byteLengthProblem(source, 'the filter');
  if (tooLong) throw new TopicFilterError(source, tooLong);
  const fault = findForbiddenCharacter(source);
  if (fault) {
    const level = levelNumberAt(source, fault.index);
    throw new TopicFilterError(source, `level ${level} contains ${fault.description}`, level);
  }
}

function parseLevel(source: string, text: string, index: number, count: number): FilterLevel {
  const number = index + 1;
  const isLast = number === count;
  const fail = (detail: string): never => {
    throw new TopicFilterError(source, `level ${number} (${quote(text)}) ${detail}`, number);
  };

  if (text === '#') {
    return isLast ? { kind: 'multi' } : fail(`is "#", which must be the last level (the filter has ${count} levels)`);
  }
  if (text === '+') return { kind: 'single' };

  const capture = CAPTURE_FORM.exec(text);
  if (capture) {
    const inner = capture[1];
    const multi = inner.endsWith('#');
    const name = multi ? inner.slice(0, -1) : inner;
    if (!CAPTURE_NAME.test(name)) {
      fail(`has the invalid capture name ${quote(name)}; a name starts with a letter or "_" ` + 'and continues with letters, digits or "_"');
    }
    if (multi && !isLast) {
      fail(`is a multi-level capture, which must be the last level (the filter has ${count} levels)`);
    }
    return multi ? { kind: 'multi', name } : { kind: 'single', name };
  }

  if (text.includes('{') || text.includes('}')) {
    fail('contains "{" or "}" but is not a capture; write a whole level as "{name}", or "{name#}" as the last level');
  }
  const wildcard = text.includes('+') ? '+' : text.includes('#') ? '#' : undefined;
  if (wildcard) {
    fail(`mixes "${wildcard}" with other characters; a wildcard must be a whole level on its own`);
  }
  return { kind: 'literal', value: text };
}

function toMqttLevel(level: FilterLevel): string {
  switch (level.kind) {
    case 'literal':
      return level.value;
    case 'single':
      return '+';
    case 'multi':
      return '#';
  }
}
