import { isIP } from 'node:net';
import { z } from 'zod';

export const ROLES = ['reader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const tokenSchema = z
  .object({
    /** Shown in the audit log; never the token itself. */
    id: z.string().min(1).max(64),
    /** reader: list and read metadata. admin: every key operation. */
    role: z.enum(ROLES),
    /** SHA-256 (hex) of the token: the configuration never needs to hold the token. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, 'must be 64 hex digits (sha256 of the token)')
      .optional(),
    /** A file holding the token. */
    file: z.string().min(1).optional(),
    /** An environment variable holding the token. */
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const given = (['sha256', 'file', 'env'] as const).filter((k) => t[k] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [], message: 'give exactly one of sha256, file, env' });
  });

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const adminSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    /** HTTPS: PEM files. Tokens and exported keys cross the network only encrypted. */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Serve plain HTTP on a non-loopback address anyway (e.g. inside a private container network behind a TLS proxy). */
    insecureHttp: z.boolean().default(false),
    /** 0 picks a free port (logged at start-up). */
    port: z.number().int().min(0).max(65535).default(8081),
    /** Larger request bodies get 413. */
    maxBodyBytes: z.number().int().min(256).max(1_048_576).default(16_384),
    tokens: z.array(tokenSchema).min(1),
    /** A token `file` that group or others can read: logged (warn) or start-up refused (refuse). */
    tokenFilePermissions: z.enum(['warn', 'refuse']).default('warn'),
    /**
     * Addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For names the client, for
     * the failure limiter and the audit log. Empty: the connecting address is the client, so
     * behind a proxy every client counts as the proxy.
     */
    trustedProxies: z.array(z.string().refine(isAddressOrRange, 'must be an IP address or CIDR range (e.g. 10.0.0.0/8)')).default([]),
    /** Failed authentications per client address before it gets 429 for the rest of the window. */
    maxAuthFailures: z.number().int().min(1).default(10),
    authFailureWindowMs: z.number().int().min(1_000).default(60_000),
    audit: z
      .object({
        /** JSON lines, appended and fsynced per event. */
        file: z.string().min(1),
        /** Also produce each event to this Kafka topic (the `kafka` section's cluster). */
        topic: z.string().min(1).optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (!a.tls && !a.insecureHttp && !LOOPBACK.has(a.host)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['host'],
        message: `serving on ${a.host} would send bearer tokens and exported keys in clear: configure admin.tls, or set insecureHttp: true behind a TLS proxy`,
      });
    }
  });

function isAddressOrRange(text: string): boolean {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || !isIP(address)) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128));
}

export type AdminConfig = z.output<typeof adminSchema>;
export type TokenConfig = AdminConfig['tokens'][number];
