import { Body, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { emptyBody, KeyService } from '@app/admin';
import { KEY_SERVICE } from './admin.tokens';
import { actor } from './actor';
import { AuthedRequest } from './authenticate.middleware';
import { ApiErrors, ApiZodResponse } from './openapi';
import { RequireRole } from './roles.decorator';
import { ZodBody } from './zod-body.pipe';

const statusSchema = z.object({ current: z.string(), previous: z.array(z.string()), keysByMasterKey: z.record(z.number().int()) });

/** Master key rotation: configure the new key as `masterKey` and the old one under `previousMasterKeys`, re-wrap, then drop the old one. */
@ApiTags('master key')
@ApiBearerAuth()
@Controller('v1/master-key')
export class MasterKeyController {
  constructor(@Inject(KEY_SERVICE) private readonly keys: KeyService) {}

  @Get()
  @RequireRole('reader')
  @ApiOperation({ summary: 'Master key ids and how many keys each one wraps' })
  @ApiZodResponse(200, 'status', statusSchema)
  @ApiErrors()
  status(@Req() req: AuthedRequest, @Body(new ZodBody(emptyBody)) _body: unknown) {
    return this.keys.masterKeyStatus(actor(req));
  }

  @Post('rewrap')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-wrap every key still under a previous master key with the current one' })
  @ApiZodResponse(200, 're-wrapped', z.object({ rewrapped: z.array(z.string()), current: z.string() }))
  @ApiErrors(409)
  rewrap(@Req() req: AuthedRequest, @Body(new ZodBody(emptyBody)) _body: unknown) {
    return this.keys.rewrap(actor(req));
  }
}
