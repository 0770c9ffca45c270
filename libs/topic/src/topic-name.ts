import { byteLengthProblem, findForbiddenCharacter, levelNumberAt } from './mqtt-string';
import { quote } from './quote';
import { wellFormedTemplateText } from './template';

/**
 * Checks a PUBLISH topic name (MQTT 5.0 sections 4.7.3 and 1.5.4).
 * @returns null when the name may be published to, otherwise the reason it may not.
 */
export function validateTopicName(topic: string): string | null {
  if (topic.length === 0) return 'the topic name is empty';
  const tooLong = byteLengthProblem(topic, 'the topic name');
  if (tooLong) return tooLong;
  const fault = findForbiddenCharacter(topic);
  if (fault) return `the topic name contains ${fault.description} at level ${levelNumberAt(topic, fault.index)}`;
  const wildcard = firstWildcard(topic);
  if (wildcard !== -1) {
    return (
      `the topic name contains the wildcard "${topic[wildcard]}" at level ${levelNumberAt(topic, wildcard)}; ` + 'wildcards are only allowed in topic filters'
    );
  }
  return null;
}

/**
 * Checks a topic template at validation, before any message: a template without placeholders
 * must be a valid topic name, and the fixed text of any other ends up in every topic it
 * renders, so a character a broker refuses there would refuse them all. Malformed braces give
 * null: compiling the template reports them.
 * @returns null when nothing is wrong yet, otherwise the whole message.
 */
export function validateTopicTemplate(source: string): string | null {
  const fixed = wellFormedTemplateText(source);
  if (!fixed) return null;
  if (fixed.isStatic) {
    const problem = validateTopicName(fixed.text);
    return problem && `invalid topic ${quote(source)}: ${problem}`;
  }
  const problem = templateTextProblem(fixed.text);
  return problem && `invalid topic template ${quote(source)}: ${problem}`;
}

function templateTextProblem(text: string): string | null {
  const tooLong = byteLengthProblem(text, 'its fixed text');
  if (tooLong) return tooLong;
  const fault = findForbiddenCharacter(text);
  if (fault) return `its fixed text contains ${fault.description}, which every topic it renders would carry`;
  const wildcard = firstWildcard(text);
  if (wildcard !== -1) return `its fixed text contains the wildcard "${text[wildcard]}"; wildcards are only allowed in topic filters`;
  return null;
}

function firstWildcard(topic: string): number {
  const plus = topic.indexOf('+');
  const hash = topic.indexOf('#');
  if (plus === -1) return hash;
  return hash === -1 ? plus : Math.min(plus, hash);
}
