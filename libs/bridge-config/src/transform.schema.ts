import { z } from 'zod';

/**
 * What a rule does to the payload. `sourceKey` is the key devices seal with (the envelope
 * must name it); `destinationKey` is the key the bridge seals with for consumers.
 */
export const transformSchema = z
  .object({
    mode: z.enum(['passthrough', 'decrypt', 'encrypt', 'reencrypt']),
    sourceKey: z.string().min(1).optional(),
    destinationKey: z.string().min(1).optional(),
    /** Refuse envelopes not bound to the MQTT topic they arrived on. */
    requireTopicBinding: z.boolean().default(true),
    /** Bind what the bridge seals to the destination topic it is written to. */
    bindDestinationTopic: z.boolean().default(true),
    /**
     * Refuse an envelope this rule already opened within the window (`replay-detected` dead
     * letter). Per worker, in memory; see docs/encryption.md.
     */
    replayWindow: z
      .object({
        seconds: z.number().int().min(1).max(86_400),
        /** Memory bound (about 150 bytes each); past it the oldest ids are forgotten early. */
        maxEnvelopes: z.number().int().min(1).max(10_000_000).default(100_000),
      })
      .strict()
      .optional(),
  })
  .strict();

export type TransformConfig = z.output<typeof transformSchema>;

/** Which key fields each mode needs; anything else is an impossible combination. */
export const TRANSFORM_KEYS: Readonly<Record<TransformConfig['mode'], { sourceKey: boolean; destinationKey: boolean }>> = {
  passthrough: { sourceKey: false, destinationKey: false },
  decrypt: { sourceKey: true, destinationKey: false },
  encrypt: { sourceKey: false, destinationKey: true },
  reencrypt: { sourceKey: true, destinationKey: true },
};

/** Problems of a transform taken alone, as [field, message] pairs. */
export function transformProblems(t: TransformConfig): Array<[string, string]> {
  const needs = TRANSFORM_KEYS[t.mode];
  const problems: Array<[string, string]> = [];
  if (t.replayWindow && !needs.sourceKey) problems.push(['replayWindow', `mode ${t.mode} opens no envelope; a replay window needs decrypt or reencrypt`]);
  for (const field of ['sourceKey', 'destinationKey'] as const) {
    if (needs[field] && !t[field]) problems.push([field, `mode ${t.mode} needs ${field}`]);
    if (!needs[field] && t[field]) problems.push([field, `mode ${t.mode} does not use ${field}; remove it or change the mode`]);
  }
  return problems;
}
