import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigError, Environment, readEnvironment } from '@app/config';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { LoadedConfig, loadBridgeConfig } from '@app/bridge-config';
import { BridgeWorker, ReloadRefusedError } from '@app/worker';
import { ConfigFileWatcher } from './config-file.watcher';

export const LOADED_CONFIG = Symbol('LOADED_CONFIG');
/** Milliseconds in-flight messages get to be confirmed at shutdown (drain.bound.ts). */
export const DRAIN_MS = Symbol('DRAIN_MS');

/** Ties the worker's life to the Nest application's, and reloads its rules on SIGHUP or a file change. */
@Injectable()
export class BridgeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Reload');
  readonly worker: BridgeWorker;
  private reloading: Promise<void> = Promise.resolve();
  /** A reload waiting for the running one to finish, with the reasons it was asked for. */
  private queued?: { why: Set<string>; done: Promise<void> };
  private stopWatching?: () => void;
  private readonly onHangup = () => void this.reload('SIGHUP');

  constructor(
    @Inject(LOADED_CONFIG) private readonly loaded: LoadedConfig,
    mqtt: MqttClientFactory,
    kafka: KafkaClientFactory,
    @Inject(DRAIN_MS) private readonly drainMs: number,
  ) {
    this.worker = new BridgeWorker(loaded, mqtt, kafka);
  }

  /**
   * Resolves once the worker bridges; rejects when it cannot start (the broker refused it). Not
   * awaited at bootstrap, so /health and /metrics are served while the first connection is tried.
   */
  started: Promise<void> = Promise.resolve();

  onApplicationBootstrap(): void {
    this.started = this.worker.start().then(() => {
      process.on('SIGHUP', this.onHangup);
      const watcher = new ConfigFileWatcher(this.loaded.file, () => void this.reload('file change'));
      watcher.start();
      this.stopWatching = () => watcher.close();
    });
    // main awaits it once the endpoints are up; until then a refusal must not count as unhandled.
    this.started.catch(() => undefined);
  }

  /** Reloads the keys at once (the admin service announced a change). */
  refreshKeys(): Promise<void> {
    return this.worker.refreshKeys();
  }

  /**
   * Reloads the rules from the configuration file; a bad file is reported and changes nothing.
   * Requests arriving while one waits join it: a burst (or a flood of control events) costs
   * one reload after the running one, not one each.
   */
  reload(why: string, env: Environment = readEnvironment()): Promise<void> {
    if (this.queued) {
      this.queued.why.add(why);
      return this.queued.done;
    }
    const reasons = new Set([why]);
    const done = this.reloading.then(async () => {
      this.queued = undefined;
      const why = [...reasons].join(', ');
      try {
        const next = await loadBridgeConfig(this.loaded.file, env);
        await this.worker.reload(next);
        this.log.log({ msg: 'configuration reloaded', why, file: this.loaded.file });
      } catch (error) {
        if (error instanceof ConfigError) {
          this.log.error({
            msg: 'reload refused: invalid configuration, the running one stays',
            why,
            problems: error.message
              .split('\n')
              .slice(1)
              .map((l) => l.trim()),
          });
        } else if (error instanceof ReloadRefusedError) {
          this.log.error({ msg: `reload refused: ${error.message}`, why });
        } else {
          this.log.error({ msg: 'reload failed', why, detail: String(error) });
        }
      }
    });
    this.queued = { why: reasons, done };
    this.reloading = done;
    return done;
  }

  async onApplicationShutdown(): Promise<void> {
    process.off('SIGHUP', this.onHangup);
    this.stopWatching?.();
    await this.reloading;
    await this.worker.stop(this.drainMs);
  }
}
