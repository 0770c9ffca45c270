import { Controller, Logger, Type } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { controlEvents, KeysChangedEvent } from '@app/admin';
import { BridgeService } from './bridge.service';

/**
 * Listens to the admin service's control events. Built per configuration because the event
 * names carry the configured prefix, and decorators need them when the class is defined.
 */
export function controlController(prefix: string): Type<unknown> {
  const events = controlEvents(prefix);

  @Controller()
  class ControlController {
    private readonly log = new Logger('Control');

    constructor(private readonly bridge: BridgeService) {}

    @EventPattern(events.keysChanged)
    async keysChanged(@Payload() event: Partial<KeysChangedEvent>): Promise<void> {
      this.log.log({ msg: 'key change announced, reloading keys', key: String(event?.key ?? ''), action: String(event?.action ?? '') });
      await this.bridge.refreshKeys();
    }

    @EventPattern(events.reload)
    async reload(): Promise<void> {
      await this.bridge.reload('admin API');
    }
  }
  return ControlController;
}
