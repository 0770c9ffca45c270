import { IClientOptions } from 'mqtt';
import { connectionOptions } from './mqtt.client-factory';
import { MqttSourceConfig } from './mqtt.schema';

/**
 * MQTT.js options of the source connection: the session, MQTT 5's receive maximum and packet
 * size, and the last will that marks the worker offline on its status topic.
 */
export function sourceClientOptions(config: MqttSourceConfig, clientId: string, statusTopic: string | undefined): IClientOptions {
  const v5 = config.protocolVersion === 5;
  const options: IClientOptions = {
    ...connectionOptions(config, clientId),
    clean: !config.session.persistent,
    resubscribe: false,
    // MQTT.js calls its debug logger about ten times per packet; even disabled, that was ~1 % of
    // the worker's CPU under load. DEBUG=mqttjs* still gets MQTT.js's own logging.
    ...(mqttJsDebugEnabled() ? {} : { log: noop }),
  };
  if (v5) {
    options.properties = {
      receiveMaximum: config.maxInFlight,
      ...(config.maxPacketBytes === undefined ? {} : { maximumPacketSize: config.maxPacketBytes }),
      ...(config.session.persistent ? { sessionExpiryInterval: config.session.expirySeconds } : {}),
    };
  }
  if (statusTopic) {
    options.will = {
      topic: statusTopic,
      payload: statusPayload('offline', clientId),
      qos: config.status?.qos ?? 1,
      retain: config.status?.retain ?? true,
    };
  }
  return options;
}

function noop(): void {}

function mqttJsDebugEnabled(): boolean {
  return /mqttjs/.test(process.env.DEBUG ?? '');
}

/** The retained status message: online on connect, offline as the last will and on close. */
export function statusPayload(status: 'online' | 'offline', clientId: string): string {
  return JSON.stringify({ status, clientId, at: new Date().toISOString() });
}
