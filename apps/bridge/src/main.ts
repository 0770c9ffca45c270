import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { INestApplicationContext, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { controlTransport } from '@app/admin';
import { readEnvironment } from '@app/config';
import { JsonLogger, LogLevel as BridgeLogLevel } from '@app/core';
import { loadBridgeConfigOrReport } from '@app/bridge-config';
import { BridgeService } from './bridge.service';
import { BridgeModule } from './bridge.module';
import { CLOSE_MARGIN_MS, drainBoundMs } from './drain.bound';
import { keysCommand, KEYS_USAGE, UsageError } from './keys.command';
import { replayCommand, REPLAY_USAGE } from './replay.command';
import { testCommand, TEST_USAGE } from './test.command';

/** Nest's text logger levels for each configured level. */
const TEXT_LEVELS: Record<BridgeLogLevel, LogLevel[]> = {
  debug: ['debug', 'verbose', 'log', 'warn', 'error', 'fatal'],
  info: ['log', 'warn', 'error', 'fatal'],
  warn: ['warn', 'error', 'fatal'],
  error: ['error', 'fatal'],
};

const USAGE = `usage: bridge <command> [config.yaml]
  run [file]        start a worker (file defaults to $BRIDGE_CONFIG, then config/bridge.yaml)
  validate <file>   check a configuration and list every problem; exit 1 if any
${TEST_USAGE}
${REPLAY_USAGE}
${KEYS_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const env = readEnvironment();
  const [command = 'run', fileArg] = argv;
  if (command === 'keys') return guarded(() => keysCommand(argv.slice(1), print));
  if (command === 'replay') return guarded(() => replayCommand(argv.slice(1), env, print));
  if (command === 'test') return guarded(() => testCommand(argv.slice(1), env, print, (line) => process.stderr.write(`${line}\n`)));
  const file = fileArg ?? env.BRIDGE_CONFIG ?? 'config/bridge.yaml';
  if (command !== 'run' && command !== 'validate') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const loaded = await loadBridgeConfigOrReport(file, env, (text) => process.stderr.write(`${text}\n`), 'worker');
  if (!loaded) return 1;
  let drainMs: number;
  try {
    drainMs = drainBoundMs(env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  if (command === 'validate') {
    process.stdout.write(
      `${file}: ok (${loaded.rules.length} rule(s), ${loaded.plan.subscriptions.length} subscription(s), ${loaded.config.fromKafka.length} Kafka -> MQTT rule(s))\n`,
    );
    return 0;
  }
  const http = loaded.config.http;
  const log = loaded.config.log;
  const logger = log.format === 'json' ? new JsonLogger(log.level) : TEXT_LEVELS[log.level];
  const module = BridgeModule.forConfig(loaded, drainMs);
  const control = loaded.config.control
    ? controlTransport(loaded.config.control, `${loaded.config.mqtt.clientId ?? 'bridge'}-control-${randomBytes(3).toString('hex')}`, loaded.file)
    : undefined;
  let app: INestApplicationContext;
  if (http.enabled) {
    const web = await NestFactory.create(module, { logger });
    if (control) web.connectMicroservice(control, { inheritAppConfig: true });
    await startControl(() => web.startAllMicroservices());
    await web.listen(http.port, http.host);
    const address = web.getHttpServer().address() as AddressInfo;
    Logger.log(`serving /metrics, /health/live and /health/ready on http://${address.address}:${address.port}`, 'Bridge');
    app = web;
  } else if (control) {
    const micro = await NestFactory.createMicroservice(module, { ...control, logger });
    await startControl(() => micro.listen());
    app = micro;
  } else {
    app = await NestFactory.createApplicationContext(module, { logger });
  }
  if (control) Logger.log(`listening for admin control events on ${loaded.config.control!.url}`, 'Bridge');
  await app.get(BridgeService).started;
  // Own signal handling rather than enableShutdownHooks(), which re-raises the signal and so
  // never exits 0 after a clean drain. A second signal skips the drain.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without draining\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`${signal}: draining in-flight messages (up to ${drainMs / 1000} s), then exiting\n`);
    // The bound is a promise to the orchestrator, whose grace period is set from it: a close
    // held up past it (a destination down, several stages each waiting) is cut short here
    // rather than by SIGKILL. What was not acknowledged stays with the MQTT broker.
    setTimeout(() => {
      process.stderr.write(`shutdown still running ${(drainMs + CLOSE_MARGIN_MS) / 1000} s after ${signal}: exiting without waiting further\n`);
      process.exit(1);
    }, drainMs + CLOSE_MARGIN_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return -1;
}

/**
 * The control plane only speeds changes up (keys are polled, files watched): a worker whose
 * control broker is unreachable at start runs without it rather than not at all.
 */
async function startControl(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    Logger.warn(
      `control events unavailable (${error instanceof Error ? error.message : String(error)}); key and rule changes arrive by polling and file watching`,
      'Bridge',
    );
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a subcommand: usage errors print the usage (exit 2), others their message (exit 1). */
async function guarded(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bridge failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
