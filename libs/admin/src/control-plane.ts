import { z } from 'zod';
import { masterKeySchema } from '@app/keystore';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

const controlTlsSchema = z
  .object({
    /** PEM file of the CA(s) that signed the broker's certificate; default: the system's trusted CAs. */
    ca: z.string().min(1).optional(),
    /** Client certificate and its key (PEM files), for a broker that asks for one. */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** Name the broker's certificate must carry (also sent as SNI); default: the URL's host. */
    servername: z.string().min(1).optional(),
  })
  .strict();

/**
 * The control plane between the admin service and the workers: small events (never key
 * material) over a broker both can reach, with @nestjs/microservices. Workers also poll their
 * key source, so a lost event only delays a change by one poll interval. File paths are
 * relative to the configuration file.
 */
export const controlSchema = z
  .object({
    /** nats://host:port or mqtt://host:port (mqtts:// for TLS). Use a broker inside the trusted zone. */
    url: z.string().regex(/^(nats|mqtts?):\/\/\S+$/, 'must be a nats://, mqtt:// or mqtts:// URL'),
    /** Prefix of every event name, so several deployments can share a broker. */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
      .default('bridge'),
    /**
     * Key that signs events (base64 of 32 bytes, from a file or a variable, as keys.masterKey);
     * default: derived from keys.masterKey. Workers refuse events it did not sign.
     */
    secret: masterKeySchema.optional(),
    /** TLS to the broker: required with nats:// for TLS; with mqtts:// only to name a CA or a client certificate. */
    tls: controlTlsSchema.optional(),
    /** Broker credentials; the password from `password` (e.g. "${CONTROL_PASSWORD}") or `passwordFile`. */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    const scheme = c.url.slice(0, c.url.indexOf(':'));
    if (c.tls && scheme === 'mqtt') issue(['tls'], 'mqtt:// is plain TCP: use mqtts:// for TLS');
    if (c.tls?.cert && !c.tls.key) issue(['tls', 'key'], 'a client certificate needs its key');
    if (c.tls?.key && !c.tls.cert) issue(['tls', 'cert'], 'a client key needs its certificate');
    if (c.password !== undefined && c.passwordFile !== undefined) issue(['passwordFile'], 'give password or passwordFile, not both');
    const hasPassword = c.password !== undefined || c.passwordFile !== undefined;
    if (hasPassword && c.username === undefined) issue(['username'], 'a password needs a username');
    const url = parseUrl(c.url);
    if (url && (url.username || url.password) && (c.username !== undefined || hasPassword)) {
      issue(['username'], 'the URL already carries credentials: give them in one place (preferably here, with passwordFile)');
    }
    const encrypted = scheme === 'mqtts' || (scheme === 'nats' && c.tls !== undefined);
    if (hasPassword && !encrypted && url && !LOOPBACK.has(url.hostname)) {
      issue(['tls'], `the password would cross the network to ${url.hostname} in clear: ${scheme === 'nats' ? 'configure control.tls' : 'use mqtts://'}`);
    }
  });

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

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
