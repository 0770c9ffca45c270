import { BridgeMessage } from '@app/core';
import { messageFromHeaders, mqttHeaders } from './kafka-headers';

const base: BridgeMessage = { topic: 'a/b', payload: Buffer.from('x'), qos: 1, retain: true, properties: {}, receivedAt: 0 };

describe('mqttHeaders', () => {
  it('always carries topic, QoS, retain flag and rule', () => {
    expect(mqttHeaders(base, 'r1')).toEqual({ 'mqtt.topic': 'a/b', 'mqtt.qos': '1', 'mqtt.retain': 'true', 'bridge.rule': 'r1' });
  });

  it('maps MQTT 5 properties, keeping repeated user properties as a list', () => {
    const corr = Buffer.from([1, 2, 3]);
    const headers = mqttHeaders(
      { ...base, retain: false, properties: { contentType: 'application/json', correlationData: corr, userProperties: { site: 'lyon', tag: ['a', 'b'] } } },
      'r',
    );
    expect(headers['mqtt.retain']).toBe('false');
    expect(headers['mqtt.content-type']).toBe('application/json');
    expect(headers['mqtt.correlation-data']).toBe(corr);
    expect(headers['mqtt.user.site']).toBe('lyon');
    expect(headers['mqtt.user.tag']).toEqual(['a', 'b']);
  });
});

describe('mqttHeaders modes', () => {
  const withProperties: BridgeMessage = { ...base, properties: { contentType: 'text/plain', userProperties: { unit: 'C' } } };

  it('all is the default', () => {
    expect(mqttHeaders(withProperties, 'r', 'all')).toEqual(mqttHeaders(withProperties, 'r'));
  });

  it('minimal keeps the topic and the MQTT 5 properties the publisher set', () => {
    expect(mqttHeaders(withProperties, 'r', 'minimal')).toEqual({ 'mqtt.topic': 'a/b', 'mqtt.content-type': 'text/plain', 'mqtt.user.unit': 'C' });
    expect(mqttHeaders(base, 'r', 'minimal')).toEqual({ 'mqtt.topic': 'a/b' });
  });

  it('none writes nothing, in a fresh object each time (the destination adds to it)', () => {
    const first = mqttHeaders(withProperties, 'r', 'none');
    expect(first).toEqual({});
    expect(mqttHeaders(withProperties, 'r', 'none')).not.toBe(first);
  });

  it('a minimal record still says which MQTT topic it came from, with QoS 1 and no retain flag assumed', () => {
    const back = messageFromHeaders(mqttHeaders(withProperties, 'r', 'minimal'), Buffer.from('p'))!;
    expect(back).toMatchObject({ topic: 'a/b', qos: 1, retain: false });
    expect(back.properties).toMatchObject({ contentType: 'text/plain', userProperties: { unit: 'C' } });
  });
});

describe('messageFromHeaders', () => {
  it('rebuilds the message mqttHeaders described', () => {
    const corr = Buffer.from([7]);
    const message: BridgeMessage = {
      ...base,
      qos: 2,
      properties: { contentType: 'text/plain', correlationData: corr, responseTopic: 'r/t', userProperties: { a: '1', b: ['x', 'y'] } },
    };
    const back = messageFromHeaders(mqttHeaders(message, 'r'), Buffer.from('p'))!;
    expect(back).toMatchObject({ topic: 'a/b', qos: 2, retain: true, payload: Buffer.from('p') });
    expect(back.properties).toEqual(message.properties);
  });

  it('says undefined for a record that did not come from MQTT', () => {
    expect(messageFromHeaders({ other: 'x' }, Buffer.alloc(0))).toBeUndefined();
  });
});
