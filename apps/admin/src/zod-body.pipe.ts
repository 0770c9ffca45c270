import { PipeTransform } from '@nestjs/common';
import type { ZodTypeAny, z } from 'zod';
import { InvalidRequestError } from '@app/admin';

/** Validates a request body against a zod schema; a failure is a 400 naming every field. */
export class ZodBody<S extends ZodTypeAny> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value ?? {});
    if (parsed.success) return parsed.data;
    throw new InvalidRequestError(
      parsed.error.issues.map((issue) => ({
        field: issue.path.join('.'),
        message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
      })),
    );
  }
}
