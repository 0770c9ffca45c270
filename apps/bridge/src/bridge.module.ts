import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { LoadedConfig } from '@app/pipeline';
import { BridgeService, LOADED_CONFIG } from './bridge.service';
import { controlController } from './control.controller';
import { BrokersHealthIndicator, HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

@Module({})
export class BridgeModule {
  static forConfig(loaded: LoadedConfig): DynamicModule {
    return {
      module: BridgeModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [
        ...(loaded.config.http.enabled ? [MetricsController, HealthController] : []),
        ...(loaded.config.control ? [controlController(loaded.config.control.prefix)] : []),
      ],
      providers: [{ provide: LOADED_CONFIG, useValue: loaded }, MqttClientFactory, KafkaClientFactory, BridgeService, BrokersHealthIndicator],
      exports: [BridgeService],
    };
  }
}
