import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AuditLog, AuditSink, FailureLimiter, FileAuditSink, KafkaAuditSink, KeyService, TokenAuthenticator } from '@app/admin';
import { readEnvironment } from '@app/config';
import { JsonLogger } from '@app/core';
import { SodiumProvider } from '@app/crypto';
import { KafkaClientFactory } from '@app/kafka';
import { GenerationWatermark, keystoreLocation, managedKeystore, MasterKey } from '@app/keystore';
import { keyUsage, loadBridgeConfigOrReport } from '@app/bridge-config';
import { adminCli, CLI_USAGE, CliUsageError } from './admin.cli';
import { AdminConfigHolder } from './admin-config.holder';
import { AdminModule } from './admin.module';
import { authenticate, noStore, requireJsonBodies } from './authenticate.middleware';
import { ControlPublisher } from './control.publisher';
import { serveOpenApi } from './openapi';

const USAGE = `usage: admin [serve] [config.yaml]   (defaults to $BRIDGE_CONFIG, then config/bridge.yaml)
Serves the key administration API described by the configuration's admin section.
${CLI_USAGE}`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = readEnvironment();
  if (argv[0] === 'keys') {
    try {
      return await adminCli(argv.slice(1), env, (line) => process.stdout.write(`${line}\n`));
    } catch (error) {
      if (!(error instanceof CliUsageError)) throw error;
      process.stderr.write(`${error.message}\n${CLI_USAGE}\n`);
      return 2;
    }
  }
  if (argv[0] === 'serve') argv = argv.slice(1);
  const file = argv[0] ?? env.BRIDGE_CONFIG ?? 'config/bridge.yaml';
  const loaded = await loadBridgeConfigOrReport(file, env, (text) => process.stderr.write(`${text}\n`), 'admin');
  if (!loaded) return 1;
  const { config, secrets } = loaded;
  if (!config.admin || !config.keys?.store || secrets.masterKey === undefined || !secrets.adminTokens) {
    process.stderr.write(`${file}: the admin service needs an admin section, keys.store and keys.masterKey\n`);
    return 1;
  }
  const logger = new JsonLogger(config.log.level);
  const kafkaFactory = new KafkaClientFactory();
  const clientId = `bridge-admin-${randomBytes(4).toString('hex')}`;
  const sodium = await SodiumProvider.create();
  const masterKeys = { current: secrets.masterKey, previous: secrets.previousMasterKeys };
  const auditFile = resolve(dirname(file), config.admin.audit.file);
  // Beside the audit log: the highest keystore generation seen survives a restart, so a whole older copy put back meanwhile is refused.
  const location = createHash('sha256').update(keystoreLocation(config.keys.store, config.kafka)).digest('hex').slice(0, 16);
  const watermark = new GenerationWatermark(resolve(dirname(auditFile), `.keystore-generation.${location}.json`));
  const { store, masters } = managedKeystore(config.keys.store, masterKeys, sodium.sodium, { kafka: config.kafka, kafkaFactory, clientId, watermark });
  await store.open();
  const sinks: AuditSink[] = [new FileAuditSink(auditFile)];
  if (config.admin.audit.topic) sinks.push(new KafkaAuditSink(kafkaFactory, config.kafka, config.admin.audit.topic));
  const audit = new AuditLog(sinks);
  await audit.open();
  const control = new ControlPublisher(
    config.control,
    clientId,
    secrets.controlKey === undefined ? undefined : MasterKey.fromText(sodium.sodium, secrets.controlKey, 'control.secret'),
    file,
  );
  const authenticator = new TokenAuthenticator(secrets.adminTokens);
  const holder = new AdminConfigHolder(file, env, keyUsage(config), authenticator);
  const keys = new KeyService({
    store,
    masters,
    sodium: sodium.sodium,
    audit,
    keyUsage: () => holder.keyUsage(),
    onChange: (change) => void control.keysChanged(change),
  });
  const limiter = new FailureLimiter(config.admin.maxAuthFailures, config.admin.authFailureWindowMs);
  const module = AdminModule.forParts({ keys, audit, control, holder });
  const tls = config.admin.tls;
  const httpsOptions = tls ? { cert: readFileSync(resolve(dirname(file), tls.cert)), key: readFileSync(resolve(dirname(file), tls.key)) } : undefined;
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, bodyParser: false, httpsOptions });
  app.disable('x-powered-by');
  if (config.admin.trustedProxies.length > 0) app.set('trust proxy', config.admin.trustedProxies);
  // Order matters: authenticate before anything reads the body.
  app.use('/v1', noStore, authenticate(authenticator, limiter, audit), requireJsonBodies);
  app.useBodyParser('json', { limit: config.admin.maxBodyBytes });
  serveOpenApi(app);
  await app.listen(config.admin.port, config.admin.host);
  const address = app.getHttpServer().address() as AddressInfo;
  Logger.log(
    `admin API on ${tls ? 'https' : 'http'}://${address.address}:${address.port}/v1 (OpenAPI at /docs), keystore ${store.describe()}, master key ${masters.current.id}${masters.previous.length > 0 ? ` (previous, until re-wrapped: ${masters.ids.slice(1).join(', ')})` : ''}`,
    'Admin',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    Logger.log(`${signal}: stopping`, 'Admin');
    void (async () => {
      await app.close();
      await Promise.allSettled([store.close(), audit.close(), control.close(), watermark.flushed()]);
      masters.wipe();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`admin failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
