import { z } from 'zod';

/**
 * Turns a check that returns its problem (null when there is none) into a zod refinement, so
 * the located message says exactly what is wrong rather than a generic "invalid".
 */
export function refineWith(check: (value: string) => string | null): (value: string, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    const message = check(value);
    if (message !== null) ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  };
}
