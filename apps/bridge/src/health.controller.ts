import { Controller, Get, Injectable } from '@nestjs/common';
import { HealthCheck, HealthCheckError, HealthCheckService, HealthIndicator, HealthIndicatorResult } from '@nestjs/terminus';
import { BridgeService } from './bridge.service';

/** Up when the worker's broker connections are (MQTT connected, Kafka answering, Kafka -> MQTT rules in their groups) and no message is held too long. */
@Injectable()
export class BrokersHealthIndicator extends HealthIndicator {
  constructor(private readonly bridge: BridgeService) {
    super();
  }

  async brokers(): Promise<HealthIndicatorResult> {
    const state = await this.bridge.worker.readiness();
    const healthy = state.mqtt && state.kafka && state.fromKafka && state.held.ok;
    const result = this.getStatus('brokers', healthy, state);
    if (!healthy) throw new HealthCheckError(state.held.ok ? 'broker connection down' : 'a message has been held too long', result);
    return result;
  }
}

/** Liveness says the process answers; readiness says it can bridge (take it out of rotation otherwise). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly brokers: BrokersHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.brokers.brokers()]);
  }
}
