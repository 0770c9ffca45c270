import { Controller, Get, Header } from '@nestjs/common';
import { BridgeService } from './bridge.service';

/** Prometheus scrape endpoint for the worker's own registry. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly bridge: BridgeService) {
    bridge.worker.stats.collectProcessMetrics();
  }

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.bridge.worker.stats.registry.metrics();
  }
}
