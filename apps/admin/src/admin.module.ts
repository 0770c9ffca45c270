import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuditLog, KeyService } from '@app/admin';
import { AdminExceptionFilter } from './admin-exception.filter';
import { AdminConfigHolder } from './admin-config.holder';
import { AUDIT_LOG, CONTROL_PUBLISHER, KEY_SERVICE } from './admin.tokens';
import { AuthGuard } from './auth.guard';
import { ControlPublisher } from './control.publisher';
import { KeysController } from './keys.controller';
import { MasterKeyController } from './master-key.controller';
import { ReloadController } from './reload.controller';

/** Everything main.ts built from the configuration (stores and sinks are opened before Nest starts). */
export interface AdminParts {
  readonly keys: KeyService;
  readonly audit: AuditLog;
  readonly control: ControlPublisher;
  readonly holder: AdminConfigHolder;
}

@Module({})
export class AdminModule {
  /** Factories, not values: Nest would serialise values (libsodium included) to key the module. */
  static forParts(parts: AdminParts): DynamicModule {
    return {
      module: AdminModule,
      controllers: [KeysController, MasterKeyController, ReloadController],
      providers: [
        { provide: KEY_SERVICE, useFactory: () => parts.keys },
        { provide: AUDIT_LOG, useFactory: () => parts.audit },
        { provide: CONTROL_PUBLISHER, useFactory: () => parts.control },
        { provide: AdminConfigHolder, useFactory: () => parts.holder },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: AdminExceptionFilter },
      ],
    };
  }
}
