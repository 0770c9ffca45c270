import { IPublishPacket } from 'mqtt';
import { messageFromPublish } from './publish.message';

describe('messageFromPublish', () => {
  it('carries the payload, QoS, retain and the MQTT 5 properties, leaving routing-only ones out', () => {
    const packet = {
      cmd: 'publish',
      topic: 'a/b',
      payload: Buffer.from('x'),
      qos: 1,
      retain: true,
      dup: false,
      properties: { contentType: 'text/plain', userProperties: { k: 'v' }, subscriptionIdentifier: 7, messageExpiryInterval: 60 },
    } as IPublishPacket;
    expect(messageFromPublish('a/b', packet, 12.5)).toEqual({
      topic: 'a/b',
      payload: Buffer.from('x'),
      qos: 1,
      retain: true,
      properties: { contentType: 'text/plain', userProperties: { k: 'v' }, messageExpiryInterval: 60 },
      receivedAt: 12.5,
    });
  });

  it('gives MQTT 3.1.1 messages no properties and a string payload as bytes', () => {
    const packet = { cmd: 'publish', topic: 't', payload: 'hi', qos: 0, retain: false, dup: false } as IPublishPacket;
    expect(messageFromPublish('t', packet, 1)).toEqual({ topic: 't', payload: Buffer.from('hi'), qos: 0, retain: false, properties: {}, receivedAt: 1 });
  });
});
