import { MQTT_MAX_STRING_BYTES, findForbiddenCharacter, levelNumberAt, utf8ByteLength } from './mqtt-string';

/**
 * Checks a PUBLISH topic name (MQTT 5.0 sections 4.7.3 and 1.5.4).
 * @returns null when the name may be published to, otherwise the reason it may not.
 */
export function validateTopicName(topic: string): string | null {
  if (topic.length === 0) return 'the topic name is empty';
  const bytes = utf8ByteLength(topic);
  if (bytes > MQTT_MAX_STRING_BYTES) {
    return `the topic name is ${bytes} UTF-8 bytes long; MQTT allows at most ${MQTT_MAX_STRING_BYTES}`;
  }
  const fault = findForbiddenCharacter(topic);
  if (fault) return `the topic name contains ${fault.description} at level ${levelNumberAt(topic, fault.index)}`;
  const wildcard = firstWildcard(topic);
  if (wildcard !== -1) {
    return (
      `the topic name contains the wildcard "${topic[wildcard]}" at level ${levelNumberAt(topic, wildcard)}; ` +
      'wildcards are only allowed in topic filters'
    );
  }
  return null;
}

function firstWildcard(topic: string): number {
  const plus = topic.indexOf('+');
  const hash = topic.indexOf('#');
  if (plus === -1) return hash;
  return hash === -1 ? plus : Math.min(plus, hash);
}
