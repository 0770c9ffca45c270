import { DynamicModule, Module } from '@nestjs/common';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { LoadedConfig } from '@app/pipeline';
import { BridgeService, LOADED_CONFIG } from './bridge.service';

@Module({})
export class BridgeModule {
  static forConfig(loaded: LoadedConfig): DynamicModule {
    return {
      module: BridgeModule,
      providers: [{ provide: LOADED_CONFIG, useValue: loaded }, MqttClientFactory, KafkaClientFactory, BridgeService],
      exports: [BridgeService],
    };
  }
}
