import { Controller, Inject, Logger, Type } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ControlEventVerifier, controlEvents, KeysChangedEvent } from '@app/admin';
import { SodiumProvider } from '@app/crypto';
import { MasterKey } from '@app/keystore';
import { LoadedConfig } from '@app/bridge-config';
import { BridgeService, LOADED_CONFIG } from './bridge.service';

/** At most one log line this often about refused events, so a flood cannot flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Listens to the admin service's control events, and acts only on those sealed with the control
 * key (control.secret, else the master key): anyone who can publish on the control broker could
 * otherwise make every worker reload. Built per configuration because the event names carry the
 * configured prefix, and decorators need them when the class is defined.
 */
export function controlController(prefix: string): Type<unknown> {
  const events = controlEvents(prefix);

  @Controller()
  class ControlController {
    private readonly log = new Logger('Control');
    private readonly verifier: Promise<ControlEventVerifier | undefined>;
    private refused = 0;
    private lastRefusalLog = 0;

    constructor(
      private readonly bridge: BridgeService,
      @Inject(LOADED_CONFIG) loaded: LoadedConfig,
    ) {
      const key = loaded.secrets.controlKey;
      // Validation requires a control key with `control`; without one every event is refused.
      this.verifier =
        key === undefined
          ? Promise.resolve(undefined)
          : SodiumProvider.create().then((s) => new ControlEventVerifier(MasterKey.fromText(s.sodium, key, 'the control key')));
    }

    @EventPattern(events.keysChanged)
    async keysChanged(@Payload() event: unknown): Promise<void> {
      const body = (await this.open(events.keysChanged, event)) as Partial<KeysChangedEvent> | undefined;
      if (!body) return;
      this.log.log({ msg: 'key change announced, reloading keys', key: String(body.key ?? ''), action: String(body.action ?? '') });
      await this.bridge.refreshKeys();
    }

    @EventPattern(events.reload)
    async reload(@Payload() event: unknown): Promise<void> {
      if (await this.open(events.reload, event)) await this.bridge.reload('admin API');
    }

    private async open(name: string, event: unknown): Promise<object | undefined> {
      const verifier = await this.verifier;
      const opened = verifier ? verifier.open(name, event) : { refused: 'no control key configured' };
      if ('body' in opened) return opened.body;
      this.refused++;
      const now = Date.now();
      if (now - this.lastRefusalLog >= REFUSAL_LOG_INTERVAL_MS) {
        this.log.warn({ msg: 'control event refused', event: name, reason: opened.refused, refusedSinceLastLine: this.refused });
        this.lastRefusalLog = now;
        this.refused = 0;
      }
      return undefined;
    }
  }
  return ControlController;
}
