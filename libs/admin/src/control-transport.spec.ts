import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transport } from '@nestjs/microservices';
import { z } from 'zod';
import { ConfigError, validateDocument, YamlDocument } from '@app/config';
import { controlSchema } from './control-plane';
import { checkControlTransport, controlTransport, ControlTransportError } from './control-transport';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('control transport: TLS and credentials', () => {
  let dir: string;
  let configFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'control-transport-'));
    mkdirSync(join(dir, 'secrets'));
    configFile = join(dir, 'bridge.yaml');
    writeFileSync(join(dir, 'secrets', 'ca.pem'), PEM);
    writeFileSync(join(dir, 'secrets', 'client.pem'), PEM);
    writeFileSync(join(dir, 'secrets', 'client.key'), KEY, { mode: 0o600 });
    writeFileSync(join(dir, 'secrets', 'password'), 'pa ss\n', { mode: 0o600 });
    writeFileSync(join(dir, 'secrets', 'not-pem'), 'hello');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Validates `yaml` (a whole file with a control section) as the loader does; the problems, located. */
  function problems(yaml: string): string[] {
    const doc = YamlDocument.parse(configFile, yaml, {});
    try {
      validateDocument(doc, z.object({ control: controlSchema }).strict(), [(c, report) => checkControlTransport(c.control, report, configFile)]);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.map((p) => `${p.line} ${p.path}: ${p.message}`);
    }
  }

  it('reads the CA, client certificate and key and the password file relative to the configuration file (NATS)', () => {
    const config = controlSchema.parse({
      url: 'nats://broker.example:4222',
      tls: { ca: 'secrets/ca.pem', cert: 'secrets/client.pem', key: 'secrets/client.key', servername: 'control.example' },
      username: 'control',
      passwordFile: 'secrets/password',
    });
    expect(controlTransport(config, 'c', configFile)).toEqual({
      transport: Transport.NATS,
      options: {
        servers: ['nats://broker.example:4222'],
        tls: { ca: PEM, cert: PEM, key: KEY, servername: 'control.example' },
        user: 'control',
        pass: 'pa ss',
      },
    });
  });

  it('gives MQTTS the CA, client certificate, servername and credentials, and verifies the broker', () => {
    const config = controlSchema.parse({ url: 'mqtts://broker.example:8883', tls: { ca: 'secrets/ca.pem' }, username: 'control', password: 'from-the-config' });
    expect(controlTransport(config, 'c', configFile)).toEqual({
      transport: Transport.MQTT,
      options: {
        url: 'mqtts://broker.example:8883',
        clientId: 'c',
        clean: true,
        ca: PEM,
        username: 'control',
        password: 'from-the-config',
        rejectUnauthorized: true,
      },
    });
  });

  it('leaves a plain control section as it was: no TLS, no credentials', () => {
    const nats = controlTransport(controlSchema.parse({ url: 'nats://127.0.0.1:4222' }), 'c');
    expect(nats).toEqual({ transport: Transport.NATS, options: { servers: ['nats://127.0.0.1:4222'] } });
  });

  it('refuses, at the field, files that cannot be read or are not PEM, and an empty password file', () => {
    writeFileSync(join(dir, 'secrets', 'empty'), '\n', { mode: 0o600 });
    const yaml = `control:
  url: nats://127.0.0.1:4222
  tls:
    ca: secrets/missing.pem
    cert: secrets/not-pem
    key: secrets/client.key
  username: control
  passwordFile: secrets/empty
`;
    expect(problems(yaml)).toEqual([
      `4 control.tls.ca: cannot read the CA file ${join(dir, 'secrets', 'missing.pem')} (ENOENT)`,
      `5 control.tls.cert: the client certificate ${join(dir, 'secrets', 'not-pem')} is not PEM (-----BEGIN ...-----)`,
      '8 control.passwordFile: the password file is empty',
    ]);
    expect(() => controlTransport(controlSchema.parse({ url: 'nats://127.0.0.1:4222', tls: { ca: 'secrets/missing.pem' } }), 'c', configFile)).toThrow(
      ControlTransportError,
    );
  });

  it('refuses a relative path where the configuration file is not known, rather than reading another file', () => {
    const config = controlSchema.parse({ url: 'mqtts://127.0.0.1:8883', tls: { ca: 'secrets/ca.pem' } });
    expect(() => controlTransport(config, 'c')).toThrow(
      expect.objectContaining({ code: 'control-transport-invalid', retriable: false, message: expect.stringMatching(/^control\.tls\.ca: relative path/) }),
    );
    expect(controlTransport({ ...config, tls: { ca: join(dir, 'secrets', 'ca.pem') } }, 'c').options).toMatchObject({ ca: PEM });
  });

  it('checks the combinations in the schema, located', () => {
    expect(problems('control:\n  url: mqtt://10.0.0.5:1883\n  tls: { ca: secrets/ca.pem }\n')).toEqual([
      '3 control.tls: mqtt:// is plain TCP: use mqtts:// for TLS',
    ]);
    expect(problems('control:\n  url: nats://127.0.0.1:4222\n  tls: { cert: secrets/client.pem }\n')).toEqual([
      '3 control.tls.key: a client certificate needs its key',
    ]);
    expect(problems('control:\n  url: nats://127.0.0.1:4222\n  tls: { key: secrets/client.key }\n')).toEqual([
      '3 control.tls.cert: a client key needs its certificate',
    ]);
    expect(problems('control:\n  url: nats://127.0.0.1:4222\n  username: u\n  password: p\n  passwordFile: secrets/password\n')).toEqual([
      '5 control.passwordFile: give password or passwordFile, not both',
    ]);
    expect(problems('control:\n  url: nats://127.0.0.1:4222\n  passwordFile: secrets/password\n')).toEqual(['2 control.username: a password needs a username']);
    expect(problems('control:\n  url: nats://u:p@127.0.0.1:4222\n  username: u\n')).toEqual([
      '3 control.username: the URL already carries credentials: give them in one place (preferably here, with passwordFile)',
    ]);
    expect(problems('control:\n  url: nats://broker.example:4222\n  username: u\n  passwordFile: secrets/password\n')).toEqual([
      '2 control.tls: the password would cross the network to broker.example in clear: configure control.tls',
    ]);
    expect(problems('control:\n  url: mqtt://broker.example:1883\n  username: u\n  password: p\n')).toEqual([
      '2 control.tls: the password would cross the network to broker.example in clear: use mqtts://',
    ]);
    expect(problems('control:\n  url: mqtts://broker.example:8883\n  username: u\n  passwordFile: secrets/password\n')).toEqual([]);
    expect(problems('control:\n  url: nats://broker.example:4222\n  tls: {}\n  username: u\n  passwordFile: secrets/password\n')).toEqual([]);
  });
});
