import { garbledProperty } from './message-properties';

describe('garbledProperty', () => {
  it('finds U+FFFD, what MQTT.js leaves of bytes that were not UTF-8, in every string property', () => {
    expect(garbledProperty({ contentType: 'text/\uFFFD' })).toBe('content type');
    expect(garbledProperty({ responseTopic: 'r/\uFFFD' })).toBe('response topic');
    expect(garbledProperty({ userProperties: { 'k\uFFFD': 'v' } })).toBe('a user property name');
    expect(garbledProperty({ userProperties: { unit: 'C', site: ['lyon', 'b\uFFFDd'] } })).toBe('user property "site"');
  });

  it('passes valid text, including other non-ASCII characters', () => {
    expect(garbledProperty({})).toBeUndefined();
    expect(garbledProperty({ contentType: 'application/json', userProperties: { unité: '°C', site: ['Zürich', '東京'] } })).toBeUndefined();
  });
});
