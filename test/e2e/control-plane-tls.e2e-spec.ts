/**
 * Issue 15: the control plane over TLS, with broker credentials from files. A private
 * nats-server and a Mosquitto TLS listener, both with a CA made for the test, a server
 * certificate naming only control.test (so `servername` matters), client certificates required
 * and a user with a password. The admin service's side (ClientProxy) and a worker's (a Nest
 * microservice) are built from controlTransport, with paths relative to the configuration file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, EventPattern, Payload } from '@nestjs/microservices';
import { parse } from 'yaml';
import { ControlConfig, controlSchema, controlTransport } from '@app/admin';
import { MosquittoBroker } from '../harness/mosquitto.broker';
import { NatsServer } from '../harness/nats.server';
import { makeTestPki, TestPki } from '../harness/test-pki';
import { uniqueId, waitFor } from './support/bridge.fixture';

const EVENT = 'tls.keys.changed';
const PASSWORD = 'correct horse battery staple';
const received: unknown[] = [];

@Controller()
class Listener {
  @EventPattern(EVENT)
  heard(@Payload() body: unknown): void {
    received.push(body);
  }
}

@Module({ controllers: [Listener] })
class ListenerModule {}

describe('control plane: TLS and credentials from files (issue 15)', () => {
  let dir: string;
  let configFile: string;
  let pki: TestPki;
  let nats: NatsServer;
  let mosquitto: MosquittoBroker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'control-tls-'));
    mkdirSync(join(dir, 'config', 'secrets'), { recursive: true });
    configFile = join(dir, 'config', 'bridge.yaml'); // the paths below are relative to it
    pki = makeTestPki(join(dir, 'config', 'secrets'), ['control.test']);
    writeFileSync(join(dir, 'config', 'secrets', 'control.password'), `${PASSWORD}\n`, { mode: 0o600 });
    nats = await NatsServer.start(
      dir,
      `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true, timeout: 2 }
authorization { users: [ { user: control, password: "${PASSWORD}" } ] }`,
    );
    const passwords = join(dir, 'mosquitto.passwd');
    execFileSync('mosquitto_passwd', ['-b', '-c', passwords, 'control', PASSWORD], { stdio: 'pipe' });
    mosquitto = await MosquittoBroker.start({
      persistence: false,
      allowAnonymous: false,
      tls: { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey, requireCertificate: true },
      extraConfig: [`password_file ${passwords}`],
    });
  }, 60_000);

  afterAll(async () => {
    await nats?.stop();
    await mosquitto?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A control section as the configuration file would hold it. */
  const control = (yaml: string): ControlConfig => controlSchema.parse(parse(yaml));

  /** Starts a worker's listener and the admin's client on `config`, and sends one event through. */
  async function roundTrip(config: ControlConfig): Promise<void> {
    const micro: INestMicroservice = await NestFactory.createMicroservice(ListenerModule, {
      ...controlTransport(config, uniqueId('worker-'), configFile),
      logger: false,
    });
    const client = ClientProxyFactory.create(controlTransport(config, uniqueId('admin-'), configFile));
    try {
      await micro.listen();
      await client.connect();
      const id = uniqueId();
      // Until the worker's subscription is in place (MQTT acknowledges it after the connection).
      await waitFor(
        async () => {
          client.emit(EVENT, { id }).subscribe({ error: () => undefined });
          await new Promise((r) => setTimeout(r, 200));
          return received.some((b) => (b as { id?: string }).id === id);
        },
        10_000,
        'the event to reach the worker',
      );
    } finally {
      await client.close();
      await micro.close();
    }
  }

  /** The admin's client fails to connect with `config`; resolves to the error text. */
  async function refused(config: ControlConfig): Promise<string> {
    const client = ClientProxyFactory.create(controlTransport(config, uniqueId('admin-'), configFile));
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        client.connect().then(
          () => 'connected',
          (error: unknown) => `refused: ${reason(error)}`,
        ),
        new Promise<string>((r) => (timer = setTimeout(() => r('refused: no connection within 5 s'), 5_000))),
      ]);
    } finally {
      clearTimeout(timer);
      await client.close();
    }
  }

  /** Nest rejects with an Error (NATS) or the client's error event (MQTT), whose certificate chain does not stringify. */
  const reason = (error: unknown) => {
    const e = error as { message?: unknown; code?: unknown };
    return `${String(e?.message ?? '')} ${String(e?.code ?? '')}`.trim();
  };

  const natsControl = (extra: string) => control(`{ url: "${nats.url}", ${extra} }`);
  const natsTls = 'tls: { ca: secrets/ca.crt, cert: secrets/client.crt, key: secrets/client.key, servername: control.test }';
  const credentials = 'username: control, passwordFile: secrets/control.password';

  it('NATS: delivers over TLS with the CA, client certificate, servername and a password file given by relative paths', async () => {
    await roundTrip(natsControl(`${natsTls}, ${credentials}`));
  }, 30_000);

  it('NATS: refuses without tls, with another CA, without servername, without a client certificate, with a wrong password', async () => {
    expect(await refused(natsControl(credentials))).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/); // TLS the server demands, but the system CAs
    expect(await refused(natsControl(`${natsTls.replace('secrets/ca.crt', 'secrets/foreign-ca.crt')}, ${credentials}`))).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    );
    expect(await refused(natsControl(`${natsTls.replace(', servername: control.test', '')}, ${credentials}`))).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(await refused(natsControl(`tls: { ca: secrets/ca.crt, servername: control.test }, ${credentials}`))).toMatch(/^refused/); // the server drops the handshake
    expect(await refused(natsControl(`${natsTls}, username: control, password: wrong`))).toMatch(/AUTHORIZATION_VIOLATION/);
    // The same settings but the right ones connect: the refusals above are each setting's doing.
    expect(await refused(natsControl(`${natsTls}, ${credentials}`))).toBe('connected');
  }, 90_000);

  const mqttControl = (extra: string) => control(`{ url: "${mosquitto.tlsUrl}", ${extra} }`);
  const mqttTls = 'tls: { ca: secrets/ca.crt, cert: secrets/client.crt, key: secrets/client.key, servername: control.test }';

  it('MQTTS: delivers with the CA, client certificate, servername and a password file given by relative paths', async () => {
    await roundTrip(mqttControl(`${mqttTls}, ${credentials}`));
  }, 30_000);

  it('MQTTS: refuses with another CA, without servername, without a client certificate, with a wrong password', async () => {
    expect(await refused(mqttControl(`${mqttTls.replace('secrets/ca.crt', 'secrets/foreign-ca.crt')}, ${credentials}`))).toMatch(/SELF_SIGNED_CERT_IN_CHAIN/);
    expect(await refused(mqttControl(`${mqttTls.replace(', servername: control.test', '')}, ${credentials}`))).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(await refused(mqttControl(`tls: { ca: secrets/ca.crt, servername: control.test }, ${credentials}`))).toMatch(/certificate required/);
    expect(await refused(mqttControl(`${mqttTls}, username: control, password: wrong`))).toMatch(/Not authorized/);
    expect(await refused(mqttControl(`${mqttTls}, ${credentials}`))).toBe('connected');
  }, 90_000);
});
