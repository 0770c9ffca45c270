import { z } from 'zod';

/** How a destination retries a transient failure; see `nextDelay`. 0 means unbounded. */
export const retryPolicySchema = z
  .object({
    initialMs: z.number().int().min(1).default(200),
    maxMs: z.number().int().min(1).default(10_000),
    /** 0: keep trying while the destination is down (messages wait, unacknowledged, at the MQTT broker). */
    maxAttempts: z.number().int().min(0).default(0),
    maxElapsedMs: z.number().int().min(0).default(0),
  })
  .strict()
  .default({});
