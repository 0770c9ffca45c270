import { Logger } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import { ControlConfig, controlEvents, ControlSigner, controlTransport, KeyChange, sealControlEvent } from '@app/admin';

const EMIT_TIMEOUT_MS = 2_000;

/**
 * Announces key changes and reload requests to the workers, each event sealed (sealControlEvent)
 * so that workers act only on what this service sent. Best effort by design: workers also poll
 * their key source, so a lost event delays a change by one poll interval at most.
 */
export class ControlPublisher {
  private readonly log = new Logger('Control');
  private readonly client?: ClientProxy;
  private readonly events?: ReturnType<typeof controlEvents>;

  constructor(
    config: ControlConfig | undefined,
    clientId: string,
    private readonly signer?: ControlSigner,
    configFile?: string,
  ) {
    if (!config) return;
    this.client = ClientProxyFactory.create(controlTransport(config, clientId, configFile));
    this.events = controlEvents(config.prefix);
  }

  keysChanged(change: KeyChange): Promise<void> {
    return this.emit(this.events?.keysChanged, change);
  }

  reload(): Promise<void> {
    return this.emit(this.events?.reload, { at: new Date().toISOString() });
  }

  async close(): Promise<void> {
    await this.client?.close();
  }

  private async emit(pattern: string | undefined, data: object): Promise<void> {
    if (!this.client || !pattern || !this.signer) return;
    try {
      await lastValueFrom(this.client.emit(pattern, sealControlEvent(pattern, data, this.signer)).pipe(timeout(EMIT_TIMEOUT_MS)), { defaultValue: undefined });
    } catch (error) {
      this.log.warn(
        `control event ${pattern} not sent (workers pick the change up on their next poll): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
