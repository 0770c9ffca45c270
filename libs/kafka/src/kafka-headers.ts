import { IHeaders } from 'kafkajs';
import { BridgeMessage, MessageProperties } from '@app/core';

/** Header names the bridge writes on every Kafka record; documented in docs/destinations.md. */
export const HEADER = {
  topic: 'mqtt.topic',
  qos: 'mqtt.qos',
  retain: 'mqtt.retain',
  contentType: 'mqtt.content-type',
  correlationData: 'mqtt.correlation-data',
  responseTopic: 'mqtt.response-topic',
  userPrefix: 'mqtt.user.',
  rule: 'bridge.rule',
} as const;

/**
 * Which of the bridge's own headers a Kafka destination writes (`mqttHeaders` in its
 * configuration). Every header is encoded into every record, so each one costs CPU per
 * record: fewer headers buy throughput at the price of metadata.
 * - `all`: topic, QoS, retain flag, rule, and the MQTT 5 properties the publisher set.
 * - `minimal`: the MQTT topic and the MQTT 5 properties the publisher set (those cost nothing
 *   when absent, and cannot be recovered from anything else); QoS, retain flag and rule go.
 * - `none`: none of them; only the rule's `headers` templates and a transform's headers remain.
 */
export const MQTT_HEADER_MODES = ['all', 'minimal', 'none'] as const;
export type MqttHeaderMode = (typeof MQTT_HEADER_MODES)[number];

/** The MQTT metadata of a message as Kafka headers (MQTT 5 user properties become `mqtt.user.<name>`). */
export function mqttHeaders(message: BridgeMessage, rule: string, mode: MqttHeaderMode = 'all'): IHeaders {
  // A fresh object every time: the destination adds its own headers to it.
  if (mode === 'none') return {};
  const headers: IHeaders = { [HEADER.topic]: message.topic };
  if (mode === 'all') {
    headers[HEADER.qos] = String(message.qos);
    headers[HEADER.retain] = message.retain ? 'true' : 'false';
    headers[HEADER.rule] = rule;
  }
  const p = message.properties;
  if (p.contentType !== undefined) headers[HEADER.contentType] = p.contentType;
  if (p.correlationData !== undefined) headers[HEADER.correlationData] = p.correlationData;
  if (p.responseTopic !== undefined) headers[HEADER.responseTopic] = p.responseTopic;
  if (p.userProperties) {
    for (const [name, value] of Object.entries(p.userProperties)) headers[HEADER.userPrefix + name] = value;
  }
  return headers;
}

/**
 * The message a record written with `mqttHeaders` came from (topic, QoS, retain flag, MQTT 5
 * properties), for replaying dead letters (always written with `all`). Undefined when the
 * record has no `mqtt.topic`; QoS 1 and no retain flag when those headers are missing.
 */
export function messageFromHeaders(headers: IHeaders, payload: Buffer): BridgeMessage | undefined {
  const topic = headerText(headers, HEADER.topic);
  if (!topic) return undefined;
  const qos = Number(headerText(headers, HEADER.qos));
  return {
    topic,
    payload,
    qos: qos === 0 || qos === 2 ? qos : 1,
    retain: headerText(headers, HEADER.retain) === 'true',
    properties: propertiesFromHeaders(headers),
    receivedAt: performance.now(),
  };
}

/** The MQTT 5 properties `mqttHeaders` wrote (content type, correlation data, response topic, `mqtt.user.*`). */
export function propertiesFromHeaders(headers: IHeaders): MessageProperties {
  const userProperties: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(HEADER.userPrefix) || value === undefined) continue;
    userProperties[name.slice(HEADER.userPrefix.length)] = Array.isArray(value) ? value.map(String) : value.toString();
  }
  const correlation = headers[HEADER.correlationData];
  return {
    contentType: headerText(headers, HEADER.contentType),
    correlationData: correlation === undefined ? undefined : Buffer.from(Array.isArray(correlation) ? correlation[0] : correlation),
    responseTopic: headerText(headers, HEADER.responseTopic),
    userProperties: Object.keys(userProperties).length > 0 ? userProperties : undefined,
  };
}

/** The first value of a header as UTF-8 text. */
export function headerText(headers: IHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
