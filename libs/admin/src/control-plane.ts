import { z } from 'zod';
import { MqttOptions, NatsOptions, Transport } from '@nestjs/microservices';
import { masterKeySchema } from '@app/keystore';

/**
 * The control plane between the admin service and the workers: small events (never key
 * material) over a broker both can reach, with @nestjs/microservices. Workers also poll their
 * key source, so a lost event only delays a change by one poll interval.
 */
export const controlSchema = z
  .object({
    /** nats://host:port or mqtt://host:port (mqtts:// for TLS). Use a broker inside the trusted zone. */
    url: z.string().regex(/^(nats|mqtts?):\/\/\S+$/, 'must be a nats://, mqtt:// or mqtts:// URL'),
    /** Prefix of every event name, so several deployments can share a broker. */
    prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('bridge'),
    /**
     * Key that signs events (base64 of 32 bytes, from a file or a variable, as keys.masterKey);
     * default: derived from keys.masterKey. Workers refuse events it did not sign.
     */
    secret: masterKeySchema.optional(),
  })
  .strict();

export type ControlConfig = z.output<typeof controlSchema>;

/** Event names, from the prefix. Dots suit NATS subjects; MQTT takes them as one topic level. */
export function controlEvents(prefix: string): { keysChanged: string; reload: string } {
  return { keysChanged: `${prefix}.keys.changed`, reload: `${prefix}.config.reload` };
}

export interface KeysChangedEvent {
  key: string;
  action: string;
  revision: number;
}

type TransportOptions = MqttOptions | NatsOptions;

/** Nest transport options per URL scheme. */
const TRANSPORTS: Record<string, (url: string, clientId: string) => TransportOptions> = {
  nats: (url) => ({ transport: Transport.NATS, options: { servers: [url] } }),
  mqtt: (url, clientId) => ({ transport: Transport.MQTT, options: { url, clientId, clean: true } }),
  mqtts: (url, clientId) => ({ transport: Transport.MQTT, options: { url, clientId, clean: true } }),
};

export function controlTransport(config: ControlConfig, clientId: string): TransportOptions {
  const scheme = config.url.slice(0, config.url.indexOf(':'));
  return TRANSPORTS[scheme](config.url, clientId);
}
