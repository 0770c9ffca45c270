import { IHeaders } from 'kafkajs';
import { BridgeMessage } from '@app/core';

/** Header names the bridge writes on every Kafka record; documented in the README. */
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

/** The MQTT metadata of a message as Kafka headers (MQTT 5 user properties become `mqtt.user.<name>`). */
export function mqttHeaders(message: BridgeMessage, rule: string): IHeaders {
  const headers: IHeaders = {
    [HEADER.topic]: message.topic,
    [HEADER.qos]: String(message.qos),
    [HEADER.retain]: message.retain ? 'true' : 'false',
    [HEADER.rule]: rule,
  };
  const p = message.properties;
  if (p.contentType !== undefined) headers[HEADER.contentType] = p.contentType;
  if (p.correlationData !== undefined) headers[HEADER.correlationData] = p.correlationData;
  if (p.responseTopic !== undefined) headers[HEADER.responseTopic] = p.responseTopic;
  if (p.userProperties) {
    for (const [name, value] of Object.entries(p.userProperties)) headers[HEADER.userPrefix + name] = value;
  }
  return headers;
}
