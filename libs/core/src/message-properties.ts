import { MessageProperties } from './bridge-message';

/** What a UTF-8 decoder puts where the bytes were not UTF-8. */
const REPLACEMENT = '\uFFFD';

/**
 * The first MQTT 5 string property holding U+FFFD, by name, or undefined. MQTT.js decodes
 * string properties as UTF-8 and replaces invalid bytes with U+FFFD without a word, and the
 * original bytes are gone by then: forwarding the value would alter it silently. (A property
 * that really holds U+FFFD is taken for one that was altered: rarer, and it still loses nothing.)
 */
export function garbledProperty(properties: MessageProperties): string | undefined {
  if (properties.contentType?.includes(REPLACEMENT)) return 'content type';
  if (properties.responseTopic?.includes(REPLACEMENT)) return 'response topic';
  const user = properties.userProperties;
  if (!user) return undefined;
  for (const name in user) {
    if (name.includes(REPLACEMENT)) return 'a user property name';
    const value = user[name];
    if (typeof value === 'string' ? value.includes(REPLACEMENT) : value.some((v) => v.includes(REPLACEMENT))) return `user property ${JSON.stringify(name)}`;
  }
  return undefined;
}
