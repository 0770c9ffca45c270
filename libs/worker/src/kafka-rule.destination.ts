import { MqttClientFactory, MqttConnectionConfig, MqttDestination, MqttSourceConfig } from '@app/mqtt';
import { KafkaRuleConfig } from '@app/bridge-config';

/**
 * A Kafka -> MQTT rule's MQTT destination: on the rule's `broker`, by default on the source
 * broker over a connection of its own. Building it connects nothing (connect() does), so
 * `bridge test` previews the very destination delivery publishes through.
 */
export function kafkaRuleDestination(config: KafkaRuleConfig, source: MqttSourceConfig, factory: MqttClientFactory): MqttDestination {
  const { mqtt } = config;
  // The source's own client id would take over its session: the rule's connection gets a random one.
  const { session: _session, maxInFlight: _maxInFlight, status: _status, clientId: _clientId, ...sourceBroker } = source;
  const broker: MqttConnectionConfig = mqtt.broker ?? sourceBroker;
  return new MqttDestination(
    `${config.name}/mqtt`,
    {
      type: 'mqtt',
      broker,
      topic: mqtt.topic,
      qos: { qos0: 0, qos1: 1, qos2: 2 },
      retain: 'keep',
      messageExpirySeconds: mqtt.messageExpirySeconds,
      retry: mqtt.retry,
    },
    factory,
    [],
    'kafka-record',
  );
}
