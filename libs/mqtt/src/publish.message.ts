import { IPublishPacket } from 'mqtt';
import { BridgeMessage, MessageProperties } from '@app/core';

/**
 * The message the pipeline sees for a PUBLISH: the MQTT 5 properties the bridge carries
 * downstream (not the subscription identifiers, which only route it), and the receipt time.
 */
export function messageFromPublish(topic: string, packet: IPublishPacket, receivedAt = performance.now()): BridgeMessage {
  const props = packet.properties;
  const properties: MessageProperties = props
    ? {
        contentType: props.contentType,
        correlationData: props.correlationData,
        responseTopic: props.responseTopic,
        payloadFormatIndicator: props.payloadFormatIndicator,
        messageExpiryInterval: props.messageExpiryInterval,
        userProperties: props.userProperties,
      }
    : {};
  return {
    topic,
    payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
    qos: packet.qos,
    retain: packet.retain,
    properties,
    receivedAt,
  };
}
