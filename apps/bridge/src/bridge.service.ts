import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { BridgeWorker, LoadedConfig } from '@app/pipeline';

export const LOADED_CONFIG = Symbol('LOADED_CONFIG');

/** Ties the worker's life to the Nest application's. */
@Injectable()
export class BridgeService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly worker: BridgeWorker;

  constructor(@Inject(LOADED_CONFIG) loaded: LoadedConfig, mqtt: MqttClientFactory, kafka: KafkaClientFactory) {
    this.worker = new BridgeWorker(loaded, mqtt, kafka);
  }

  onApplicationBootstrap(): Promise<void> {
    return this.worker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}
