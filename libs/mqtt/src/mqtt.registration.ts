import { DestinationRegistration } from '@app/core';
import { MqttClientFactory } from './mqtt.client-factory';
import { MqttDestination } from './mqtt.destination';
import { mqttDestinationSchema, mqttDestinationSpec } from './mqtt.schema';

/** The `mqtt` destination type: another MQTT broker (or the source broker, on its own connection). */
export const mqttDestinationRegistration: DestinationRegistration<typeof mqttDestinationSchema, { mqttFactory(): MqttClientFactory }> = {
  ...mqttDestinationSpec,
  create: (config, name, captures, resources) => new MqttDestination(name, config, resources.mqttFactory(), captures),
};
