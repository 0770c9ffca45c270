import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { MqttOptions, NatsOptions, Transport } from '@nestjs/microservices';
import type { Report } from '@app/config';
import { secretFilePermissionProblem } from '@app/keystore';
import { BridgeError } from '@app/core';
import type { ControlConfig } from './control-plane';

type TransportOptions = MqttOptions | NatsOptions;
type FieldPath = Array<string | number>;

/** A control transport setting that cannot be used, by its path in the configuration file. */
export interface ControlProblem {
  readonly path: FieldPath;
  readonly message: string;
}

/** The control section names files that cannot be read; start-up stops (fixing needs an operator). */
export class ControlTransportError extends BridgeError {
  readonly retriable = false;
  readonly code = 'control-transport-invalid';

  constructor(readonly problems: readonly ControlProblem[]) {
    super(problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '));
  }
}

/** What the control section's files hold, read once. */
interface ControlSecrets {
  ca?: string;
  cert?: string;
  key?: string;
  password?: string;
}

/**
 * Reports every control file (CA, client certificate and key, password file) that cannot be
 * read, at its field, for the configuration loader's checks. Paths are relative to `configFile`.
 */
export function checkControlTransport(config: ControlConfig | undefined, report: Report, configFile: string): void {
  if (!config) return;
  for (const p of readControlSecrets(config, dirname(configFile)).problems) report(p.path, p.message);
}

/**
 * Nest transport options for the control broker, with TLS material and the password read from
 * their files (relative to `configFile`). Without `configFile` only absolute paths can be used.
 * Throws ControlTransportError naming each file that cannot be read.
 */
export function controlTransport(config: ControlConfig, clientId: string, configFile?: string): TransportOptions {
  const read = readControlSecrets(config, configFile === undefined ? undefined : dirname(configFile));
  if (read.problems.length > 0) throw new ControlTransportError(read.problems);
  for (const loose of read.loose) new Logger('Secrets').warn(loose);
  const { ca, cert, key, password } = read.secrets;
  const servername = config.tls?.servername;
  if (config.url.startsWith('nats:')) {
    return {
      transport: Transport.NATS,
      options: {
        servers: [config.url],
        // servername reaches tls.connect: nats.js merges these options over its own.
        tls: config.tls ? { ca, cert, key, ...(servername ? { servername } : {}) } : undefined,
        user: config.username,
        pass: password,
      },
    };
  }
  // MQTT.js passes servername on to tls.connect; Nest's type does not list it.
  const options: NonNullable<MqttOptions['options']> & { servername?: string } = {
    url: config.url,
    clientId,
    clean: true,
    ca,
    cert,
    key,
    servername,
    username: config.username,
    password,
    rejectUnauthorized: true,
  };
  return { transport: Transport.MQTT, options };
}

function readControlSecrets(config: ControlConfig, baseDir: string | undefined): { secrets: ControlSecrets; problems: ControlProblem[]; loose: string[] } {
  const secrets: ControlSecrets = {};
  const problems: ControlProblem[] = [];
  const loose: string[] = [];
  const files: Array<[keyof ControlSecrets, FieldPath, string | undefined, string]> = [
    ['ca', ['control', 'tls', 'ca'], config.tls?.ca, 'CA file'],
    ['cert', ['control', 'tls', 'cert'], config.tls?.cert, 'client certificate'],
    ['key', ['control', 'tls', 'key'], config.tls?.key, 'client key'],
    ['password', ['control', 'passwordFile'], config.passwordFile, 'password file'],
  ];
  for (const [field, path, file, what] of files) {
    if (file === undefined) continue;
    if (baseDir === undefined && !isAbsolute(file)) {
      problems.push({
        path,
        message: `relative path ${JSON.stringify(file)}, but the configuration file's directory is not known here: give an absolute path`,
      });
      continue;
    }
    const full = resolve(baseDir ?? '/', file);
    try {
      secrets[field] = readFileSync(full, 'utf8');
    } catch (error) {
      problems.push({ path, message: `cannot read the ${what} ${full} (${(error as NodeJS.ErrnoException).code ?? 'read error'})` });
      continue;
    }
    if (field !== 'password' && !/-----BEGIN [A-Z0-9 ]+-----/.test(secrets[field] as string)) {
      problems.push({ path, message: `the ${what} ${full} is not PEM (-----BEGIN ...-----)` });
      continue;
    }
    // Secrets only: a CA or certificate is public.
    const permissions = field === 'key' || field === 'password' ? secretFilePermissionProblem(full) : undefined;
    if (permissions) loose.push(`${path.join('.')}: ${what} ${permissions}`);
  }
  if (secrets.password !== undefined) {
    // A trailing newline (echo, editors) is not part of a password.
    secrets.password = secrets.password.replace(/\r?\n$/, '');
    if (secrets.password === '') problems.push({ path: ['control', 'passwordFile'], message: 'the password file is empty' });
  }
  secrets.password ??= config.password;
  return { secrets, problems, loose };
}
