import { BridgeMessage } from '@app/core';
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
