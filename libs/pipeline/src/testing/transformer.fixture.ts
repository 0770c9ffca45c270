import { jest } from '@jest/globals';
import { BridgeMessage } from '@app/core';
import { EnvelopeSealer } from '@app/crypto';
import { TemplateContext } from '@app/topic';
import { TransformConfig } from '@app/bridge-config';

/** A QoS 1 message as the MQTT source hands it over (the transformer's specs). */
export const message = (payload: Buffer, topic = 'site/a/temp'): BridgeMessage => ({ topic, payload, qos: 1, retain: false, properties: {}, receivedAt: 0 });

/** A transform section with topic binding required and applied, as validation fills it in. */
export const transform = (t: Partial<TransformConfig> & Pick<TransformConfig, 'mode'>): TransformConfig => ({
  requireTopicBinding: true,
  bindDestinationTopic: true,
  ...t,
});

/** The template context of `m` under rule `r` with capture `site: a`. */
export const context = (m: BridgeMessage): TemplateContext => ({
  topic: m.topic,
  levels: m.topic.split('/'),
  captures: { site: 'a' },
  qos: m.qos,
  rule: 'r',
  clientId: 'c',
});

/** Captures the plaintext buffers `sealer` opens (views on the same memory), to check they are wiped. */
export function openedBy(sealer: EnvelopeSealer): Buffer[] {
  const buffers: Buffer[] = [];
  const real = sealer.open.bind(sealer);
  jest.spyOn(sealer, 'open').mockImplementation((...args) => {
    const result = real(...args);
    buffers.push(Buffer.from(result.plaintext.buffer, result.plaintext.byteOffset, result.plaintext.byteLength));
    return result;
  });
  return buffers;
}
