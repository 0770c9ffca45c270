import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditLog, emptyBody } from '@app/admin';
import { AUDIT_LOG, CONTROL_PUBLISHER } from './admin.tokens';
import { AdminConfigHolder } from './admin-config.holder';
import { actor } from './actor';
import { AuthedRequest } from './authenticate.middleware';
import { ControlPublisher } from './control.publisher';
import { ApiErrors, ApiZodResponse } from './openapi';
import { ZodBody } from './zod-body.pipe';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1')
export class ReloadController {
  constructor(
    private readonly holder: AdminConfigHolder,
    @Inject(CONTROL_PUBLISHER) private readonly control: ControlPublisher,
    @Inject(AUDIT_LOG) private readonly audit: AuditLog,
  ) {}

  /**
   * Validates the configuration file first, so a broken file is refused here with its problems
   * instead of by every worker; then asks every worker to reload.
   */
  @Post('reload')
  @HttpCode(202)
  @ApiOperation({ summary: 'Re-read the bridge configuration and ask every worker to reload its rules' })
  @ApiZodResponse(202, 'valid; workers notified', z.object({ rules: z.number().int() }))
  @ApiErrors(400)
  async reload(@Req() req: AuthedRequest, @Body(new ZodBody(emptyBody)) _body: unknown): Promise<{ rules: number }> {
    const base = { ...actor(req), action: 'reload' };
    try {
      const rules = await this.holder.reload();
      await this.control.reload();
      await this.audit.record({ ...base, result: 'ok', status: 202 });
      return { rules };
    } catch (error) {
      const e = error as { status?: number; code?: string };
      await this.audit.record({ ...base, result: 'failed', status: e.status ?? 500, code: e.code ?? 'internal' });
      throw error;
    }
  }
}
