import { quote, wellFormedTemplateText } from '@app/topic';

/** Kafka's limit (Topic.MAX_NAME_LENGTH): a partition's directory is named after its topic. */
export const KAFKA_TOPIC_MAX_CHARS = 249;
const ILLEGAL = /[^A-Za-z0-9._-]/u;
const ALLOWED = "a Kafka topic name has only ASCII letters, digits, '.', '_' and '-'";

/**
 * Why Kafka would refuse `name` as a topic name (the rules of its Topic.validate); null when it
 * would not.
 */
export function kafkaTopicNameProblem(name: string): string | null {
  if (name.length === 0) return 'a Kafka topic name cannot be empty';
  if (name === '.' || name === '..') return `a Kafka topic cannot be named ${quote(name)}`;
  if (name.length > KAFKA_TOPIC_MAX_CHARS) return `the name has ${name.length} characters; Kafka allows at most ${KAFKA_TOPIC_MAX_CHARS}`;
  const illegal = illegalCharacter(name);
  return illegal && `${illegal} is not allowed: ${ALLOWED}`;
}

/** kafkaTopicNameProblem as a whole message naming the topic, for a name written in the configuration. */
export function kafkaTopicProblem(name: string): string | null {
  return invalidTopic(name, kafkaTopicNameProblem(name));
}

/**
 * Checks a Kafka topic template at validation, before any message: one without placeholders
 * is the name every record gets, and the fixed text of any other is in every name it renders.
 * Malformed braces give null: compiling the template reports them.
 * @returns null when nothing is wrong yet, otherwise the whole message.
 */
export function kafkaTopicTemplateProblem(source: string): string | null {
  const fixed = wellFormedTemplateText(source);
  if (!fixed) return null;
  if (fixed.isStatic) return invalidTopic(source, kafkaTopicNameProblem(fixed.text));
  const illegal = illegalCharacter(fixed.text);
  if (illegal) return `invalid Kafka topic template ${quote(source)}: ${illegal} of its fixed text is not allowed: ${ALLOWED}`;
  if (fixed.text.length > KAFKA_TOPIC_MAX_CHARS) {
    return `invalid Kafka topic template ${quote(source)}: its fixed text alone has ${fixed.text.length} characters; Kafka allows at most ${KAFKA_TOPIC_MAX_CHARS}`;
  }
  return null;
}

function invalidTopic(written: string, problem: string | null): string | null {
  return problem && `invalid Kafka topic ${quote(written)}: ${problem}`;
}

/** The first character Kafka refuses, as `character 4 " " (U+0020)`; positions count characters from 1. */
function illegalCharacter(text: string): string | null {
  const match = ILLEGAL.exec(text);
  if (!match) return null;
  const char = match[0];
  const code = char.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const shown = code >= 0x20 && code < 0x7f ? `${JSON.stringify(char)} (${hex})` : hex;
  return `character ${Array.from(text.slice(0, match.index)).length + 1} ${shown}`;
}
