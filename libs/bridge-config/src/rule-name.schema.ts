import { z } from 'zod';

/** Rule names label metrics and dead letters, so they stay plain. */
export const ruleNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "expected a name of letters, digits, '.', '_' or '-'");
