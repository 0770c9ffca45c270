import { z } from 'zod';

/** Where wrapped keys live; `type` picks the implementation in keystore.registry.ts. */
export const keystoreSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('file'),
      /** Relative to the configuration file. Written by the admin service only. */
      path: z.string().min(1),
    })
    .strict(),
  z
    .object({
      type: z.literal('kafka'),
      /** A compacted topic on the `kafka` section's cluster, created when missing. */
      topic: z.string().min(1).default('bridge.keys'),
    })
    .strict(),
]);

/** The master key (key-encryption key): base64 of 32 bytes, from a file or an environment variable. */
export const masterKeySchema = z
  .object({
    file: z.string().min(1).optional(),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    /** A `file` that group or others can read: logged (warn) or start-up refused (refuse). */
    permissions: z.enum(['warn', 'refuse']).default('warn'),
  })
  .strict()
  .refine((m) => (m.file === undefined) !== (m.env === undefined), 'give exactly one of file, env');

export type KeystoreConfig = z.output<typeof keystoreSchema>;
export type MasterKeyConfig = z.output<typeof masterKeySchema>;
