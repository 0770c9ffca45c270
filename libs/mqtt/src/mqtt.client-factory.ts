import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { connect, IClientOptions, MqttClient } from 'mqtt';
import { MqttConnectionConfig } from './mqtt.schema';

/** The seam between the bridge and MQTT.js: tests replace `createClient` with a fake. */
@Injectable()
export class MqttClientFactory {
  createClient(url: string, options: IClientOptions): MqttClient {
    return connect(url, options);
  }
}

/** Client options common to every connection the bridge opens. */
export function connectionOptions(config: MqttConnectionConfig, clientId: string): IClientOptions {
  const tls = config.tls;
  return {
    clientId,
    username: config.username,
    password: config.password,
    protocolVersion: config.protocolVersion,
    keepalive: config.keepaliveSeconds,
    connectTimeout: config.connectTimeoutMs,
    reconnectPeriod: config.reconnectPeriodMs,
    ca: tls?.ca ? readFileSync(tls.ca) : undefined,
    cert: tls?.cert ? readFileSync(tls.cert) : undefined,
    key: tls?.key ? readFileSync(tls.key) : undefined,
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
  };
}
