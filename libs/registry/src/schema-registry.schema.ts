import { z } from 'zod';
import { retryPolicySchema } from '@app/core';

const basicAuth = z.object({ username: z.string().min(1), password: z.string().min(1) }).strict();
const bearerAuth = z.object({ token: z.string().min(1) }).strict();

/** One schema registry a rule's `process.schema.registry` names (a Confluent-compatible REST API). */
export const schemaRegistrySchema = z
  .object({
    /** Base URL of the Confluent-compatible API, e.g. `https://registry:8081` or Apicurio's `http://registry:8080/apis/ccompat/v7`. */
    url: z.string().url(),
    /** `basic: { username, password }` or `bearer: { token }`; use `${ENV}` for the secrets. */
    auth: z.union([z.object({ basic: basicAuth }).strict(), z.object({ bearer: bearerAuth }).strict()]).optional(),
    /** PEM CA certificate(s) to trust for an https registry instead of the system's; relative to the configuration file. */
    ca: z.string().min(1).optional(),
    /** Per request. */
    timeoutMs: z.number().int().min(100).default(5_000),
    /** Entries per cache (schemas by id, subject versions, registrations). */
    cacheSize: z.number().int().min(1).default(1_000),
    /** How long a `version: latest` answer is used before the registry is asked again. */
    latestTtlMs: z.number().int().min(0).default(30_000),
    /** While the registry is down: messages wait, unacknowledged, and one request per schema retries on this policy. */
    retry: retryPolicySchema,
  })
  .strict()
  .superRefine((registry, ctx) => {
    let url: URL;
    try {
      url = new URL(registry.url);
    } catch {
      return;
    }
    const issue = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if (url.protocol !== 'http:' && url.protocol !== 'https:') issue('url', `expected an http or https URL, got ${url.protocol}`);
    if (url.username || url.password) issue('url', 'give credentials in auth, not in the URL (the URL is logged)');
    if (registry.ca !== undefined && url.protocol !== 'https:') issue('ca', 'a CA applies to an https URL');
  });

export type SchemaRegistryConfig = z.output<typeof schemaRegistrySchema>;
