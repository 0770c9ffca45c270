import type { TopicFilter } from './topic-filter';

const DOLLAR = 0x24;

/**
 * Matches a topic name against a parsed filter (MQTT 5.0 section 4.7).
 * @returns null when the topic does not match, otherwise the named captures
 *   (an empty object when the filter names none). The object has no prototype, so any
 *   capture name, "__proto__" included, is plain data.
 */
export function matchTopic(filter: TopicFilter, topic: string): Record<string, string> | null {
  if (!walk(filter, topic, undefined)) return null;
  const captures: Record<string, string> = Object.create(null);
  // Captures are read in a second walk so that the common case, a rule that does not
  // match, allocates nothing at all.
  if (filter.captures.length > 0) walk(filter, topic, captures);
  return captures;
}

/** Walks the topic in place with indexOf rather than split, writing captures into `out` when given. */
function walk(filter: TopicFilter, topic: string, out: Record<string, string> | undefined): boolean {
  const levels = filter.levels;
  // An empty string is not a topic name, and "" would otherwise look like one empty level.
  if (topic.length === 0) return false;
  // Spec 4.7.2: a leading wildcard must not reach server-specific topics such as $SYS.
  if (levels[0].kind !== 'literal' && topic.charCodeAt(0) === DOLLAR) return false;

  // Start of the current topic level, or -1 once the topic has no levels left.
  let start = 0;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.kind === 'multi') {
      // '#' also matches the parent level, where nothing remains to capture.
      if (out && level.name !== undefined) out[level.name] = start === -1 ? '' : topic.slice(start);
      return true;
    }
    if (start === -1) return false;
    const slash = topic.indexOf('/', start);
    const end = slash === -1 ? topic.length : slash;
    if (level.kind === 'literal') {
      if (end - start !== level.value.length || !topic.startsWith(level.value, start)) return false;
    } else if (out && level.name !== undefined) {
      out[level.name] = topic.slice(start, end);
    }
    start = slash === -1 ? -1 : slash + 1;
  }
  return start === -1;
}
