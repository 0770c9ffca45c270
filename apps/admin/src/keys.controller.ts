import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  createKeyBody,
  emptyBody,
  exportedKeySchema,
  exportKeyBody,
  importKeyBody,
  KeyService,
  keyViewSchema,
  minDecryptionVersionBody,
  rotateKeyBody,
} from '@app/admin';
import { KEY_SERVICE } from './admin.tokens';
import { actor } from './actor';
import { AuthedRequest } from './authenticate.middleware';
import { ApiErrors, ApiZodBody, ApiZodResponse } from './openapi';
import { RequireRole } from './roles.decorator';
import { KeyNameParam, VersionParam } from './route-params';
import { ZodBody } from './zod-body.pipe';

const NAME = { name: 'name', description: 'key name ([A-Za-z0-9._-], up to 64)' };

@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1/keys')
export class KeysController {
  constructor(@Inject(KEY_SERVICE) private readonly keys: KeyService) {}

  @Get()
  @RequireRole('reader')
  @ApiOperation({ summary: 'List keys (metadata only)' })
  @ApiQuery({ name: 'deleted', required: false, description: 'true: include soft-deleted keys' })
  @ApiZodResponse(200, 'the keys', z.object({ keys: z.array(keyViewSchema) }))
  @ApiErrors()
  async list(@Req() req: AuthedRequest, @Body(new ZodBody(emptyBody)) _body: unknown, @Query('deleted') deleted?: string) {
    return { keys: await this.keys.list(actor(req), deleted === 'true') };
  }

  @Get(':name')
  @RequireRole('reader')
  @ApiOperation({ summary: 'One key: versions, states, public keys; never secrets' })
  @ApiParam(NAME)
  @ApiZodResponse(200, 'the key', keyViewSchema)
  @ApiErrors(400, 404)
  get(@Req() req: AuthedRequest, @Param('name', KeyNameParam) name: string, @Body(new ZodBody(emptyBody)) _body: unknown) {
    return this.keys.get(actor(req), name);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a key (generated in the service)' })
  @ApiZodBody(createKeyBody)
  @ApiZodResponse(201, 'created', keyViewSchema)
  @ApiErrors(400, 409, 413)
  create(@Req() req: AuthedRequest, @Body(new ZodBody(createKeyBody)) body: z.output<typeof createKeyBody>) {
    return this.keys.create(actor(req), body);
  }

  @Post('import')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a key from existing material (keys already provisioned on devices)' })
  @ApiZodBody(importKeyBody)
  @ApiZodResponse(201, 'imported', keyViewSchema)
  @ApiErrors(400, 409, 413)
  import(@Req() req: AuthedRequest, @Body(new ZodBody(importKeyBody)) body: z.output<typeof importKeyBody>) {
    return this.keys.import(actor(req), body);
  }

  @Post(':name/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Add a new primary version (generated, or imported with material)' })
  @ApiParam(NAME)
  @ApiZodBody(rotateKeyBody)
  @ApiZodResponse(200, 'rotated', keyViewSchema)
  @ApiErrors(400, 404, 409, 413)
  rotate(@Req() req: AuthedRequest, @Param('name', KeyNameParam) name: string, @Body(new ZodBody(rotateKeyBody)) body: z.output<typeof rotateKeyBody>) {
    return this.keys.rotate(actor(req), name, body.material);
  }

  @Post(':name/versions/:version/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke one version: envelopes sealed with it stop opening' })
  @ApiParam(NAME)
  @ApiParam({ name: 'version', description: 'key version' })
  @ApiZodResponse(200, 'revoked', keyViewSchema)
  @ApiErrors(400, 404, 409)
  revoke(
    @Req() req: AuthedRequest,
    @Param('name', KeyNameParam) name: string,
    @Param('version', VersionParam) version: number,
    @Body(new ZodBody(emptyBody)) _body: unknown,
  ) {
    return this.keys.revoke(actor(req), name, version);
  }

  @Put(':name/min-decryption-version')
  @ApiOperation({ summary: 'Refuse every version below this one' })
  @ApiParam(NAME)
  @ApiZodBody(minDecryptionVersionBody)
  @ApiZodResponse(200, 'updated', keyViewSchema)
  @ApiErrors(400, 404, 409, 413)
  setMinDecryptionVersion(
    @Req() req: AuthedRequest,
    @Param('name', KeyNameParam) name: string,
    @Body(new ZodBody(minDecryptionVersionBody)) body: z.output<typeof minDecryptionVersionBody>,
  ) {
    return this.keys.setMinDecryptionVersion(actor(req), name, body.version);
  }

  @Post(':name/export')
  @HttpCode(200)
  @ApiOperation({ summary: 'Export secrets of an exportable key (audited)' })
  @ApiParam(NAME)
  @ApiZodBody(exportKeyBody)
  @ApiZodResponse(200, 'the secrets, base64', exportedKeySchema)
  @ApiErrors(400, 404, 409, 413)
  export(@Req() req: AuthedRequest, @Param('name', KeyNameParam) name: string, @Body(new ZodBody(exportKeyBody)) body: z.output<typeof exportKeyBody>) {
    return this.keys.export(actor(req), name, body.version, body.allowRetired);
  }

  @Delete(':name')
  @ApiOperation({ summary: 'Soft-delete a key (refused while a rule uses it); restore undoes it' })
  @ApiParam(NAME)
  @ApiZodResponse(200, 'deleted', keyViewSchema)
  @ApiErrors(400, 404, 409)
  delete(@Req() req: AuthedRequest, @Param('name', KeyNameParam) name: string, @Body(new ZodBody(emptyBody)) _body: unknown) {
    return this.keys.delete(actor(req), name);
  }

  @Post(':name/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Undo a soft delete' })
  @ApiParam(NAME)
  @ApiZodResponse(200, 'restored', keyViewSchema)
  @ApiErrors(400, 404, 409)
  restore(@Req() req: AuthedRequest, @Param('name', KeyNameParam) name: string, @Body(new ZodBody(emptyBody)) _body: unknown) {
    return this.keys.restore(actor(req), name);
  }

  @Delete(':name/purge')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a soft-deleted key for good' })
  @ApiParam(NAME)
  @ApiQuery({ name: 'confirm', required: true, description: 'must repeat the key name' })
  @ApiZodResponse(204, 'purged')
  @ApiErrors(400, 404, 409)
  async purge(
    @Req() req: AuthedRequest,
    @Param('name', KeyNameParam) name: string,
    @Body(new ZodBody(emptyBody)) _body: unknown,
    @Query('confirm') confirm?: string,
  ): Promise<void> {
    await this.keys.purge(actor(req), name, confirm);
  }
}
