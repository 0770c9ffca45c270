import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { LoadedConfig } from '@app/bridge-config';
import { BridgeService, DRAIN_MS, LOADED_CONFIG } from './bridge.service';
import { controlController } from './control.controller';
import { DEFAULT_DRAIN_SECONDS } from './drain.bound';
import { BrokersHealthIndicator, HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

@Module({})
export class BridgeModule {
  static forConfig(loaded: LoadedConfig, drainMs = DEFAULT_DRAIN_SECONDS * 1000): DynamicModule {
    return {
      module: BridgeModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [
        ...(loaded.config.http.enabled ? [MetricsController, HealthController] : []),
        ...(loaded.config.control ? [controlController(loaded.config.control.prefix)] : []),
      ],
      providers: [
        { provide: LOADED_CONFIG, useValue: loaded },
        { provide: DRAIN_MS, useValue: drainMs },
        MqttClientFactory,
        KafkaClientFactory,
        BridgeService,
        BrokersHealthIndicator,
      ],
      exports: [BridgeService],
    };
  }
}
