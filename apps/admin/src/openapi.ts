import { applyDecorators, INestApplication } from '@nestjs/common';
import { ApiBody, ApiResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { errorBody } from '@app/admin';

/** The OpenAPI schema of a zod schema: requests are validated and documented from one source. */
function schemaOf(schema: ZodTypeAny): Record<string, unknown> {
  // Typed loosely: zod-to-json-schema's generic signature makes the compiler recurse too deep.
  const convert = zodToJsonSchema as (s: unknown, o: object) => Record<string, unknown>;
  const { $schema: _drop, ...rest } = convert(schema, { target: 'openApi3', $refStrategy: 'none' });
  return rest;
}

export const ApiZodBody = (schema: ZodTypeAny) => ApiBody({ schema: schemaOf(schema) });

export const ApiZodResponse = (status: number, description: string, schema?: ZodTypeAny) =>
  ApiResponse({ status, description, ...(schema ? { schema: schemaOf(schema) } : {}) });

/** The error responses every authenticated route can give, plus the route's own. */
export const ApiErrors = (...statuses: number[]) =>
  applyDecorators(
    ...[401, 403, 429, ...statuses].map((status) => ApiResponse({ status, description: ERROR_TEXT[status] ?? 'error', schema: schemaOf(errorBody) })),
  );

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid body or parameter (problems name each field)',
  401: 'no valid bearer token',
  403: 'the token role is too low',
  404: 'no such key or version',
  409: 'conflicts with the key state (exists, in use, not exportable, changed meanwhile...)',
  413: 'body too large',
  429: 'too many failed authentications from this address',
  503: 'keystore unavailable',
};

/** Serves the document at /docs (UI) and /docs-json; the documentation itself needs no token. */
export function serveOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Bridge key administration')
    .setDescription('Create, rotate, revoke, import, export and delete the keys bridge workers use. Every /v1 route needs a bearer token.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, config));
}
