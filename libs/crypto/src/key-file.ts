import { z } from 'zod';
import { isValidKeyName, KEY_NAME_MAX_LENGTH, MAX_KEY_VERSION } from './envelope';
import { formatKeyPath, InvalidKeysError, KeyProblem } from './invalid-keys.error';
import { findKeyEntryProblems, KEY_BYTES } from './key-entry.rules';
import type { KeyEntry } from './keyring';

/*
 * The key file format (JSON, keys in base64):
 * { "keys": [ { "name", "type", "primaryVersion", "minDecryptionVersion",
 *               "versions": [ { "version", "state", "createdAt", "key", "publicKey"? } ] } ] }
 * Messages built here never quote a value from the file: any of them may be key material.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const keyBytes = z.string().transform((text, ctx) => {
  const bytes = decodeKey(text);
  if (!bytes) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be base64 of exactly ${KEY_BYTES} bytes` });
    return z.NEVER;
  }
  return bytes;
});

const versionNumber = z.number().int().min(1).max(MAX_KEY_VERSION);

const keyFileSchema = z
  .object({
    keys: z.array(
      z
        .object({
          name: z.string().refine(isValidKeyName, `must be 1..${KEY_NAME_MAX_LENGTH} characters of [A-Za-z0-9._-]`),
          type: z.enum(['symmetric', 'sealed']),
          primaryVersion: versionNumber,
          minDecryptionVersion: versionNumber,
          versions: z
            .array(
              z
                .object({
                  version: versionNumber,
                  state: z.enum(['active', 'revoked']),
                  createdAt: z.string().datetime({ offset: true }),
                  key: keyBytes,
                  publicKey: keyBytes.optional(),
                })
                .strict(),
            )
            .min(1),
        })
        .strict(),
    ),
  })
  .strict();

/** Parses and validates a key file; throws InvalidKeysError listing every problem with its JSON path. */
export function parseKeyFile(text: string, source: string): KeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's own message quotes the text around the error, which may be a key.
    throw new InvalidKeysError(source, [{ path: '', message: 'not valid JSON' }]);
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) throw new InvalidKeysError(source, parsed.error.issues.map(describeIssue));
  const entries: KeyEntry[] = parsed.data.keys.map((k) => ({
    name: k.name,
    type: k.type,
    primaryVersion: k.primaryVersion,
    minDecryptionVersion: k.minDecryptionVersion,
    versions: k.versions.map((v) => ({
      version: v.version,
      state: v.state,
      createdAt: v.createdAt,
      secret: v.key,
      ...(v.publicKey ? { publicKey: v.publicKey } : {}),
    })),
  }));
  const problems = findKeyEntryProblems(entries);
  if (problems.length > 0) throw new InvalidKeysError(source, problems);
  return entries;
}

/** The inverse of parseKeyFile, for the admin service to write a key file back. */
export function formatKeyFile(entries: readonly KeyEntry[]): string {
  const keys = entries.map((e) => ({
    name: e.name,
    type: e.type,
    primaryVersion: e.primaryVersion,
    minDecryptionVersion: e.minDecryptionVersion,
    versions: e.versions.map((v) => ({
      version: v.version,
      state: v.state,
      createdAt: v.createdAt,
      key: toBase64(v.secret),
      ...(v.publicKey ? { publicKey: toBase64(v.publicKey) } : {}),
    })),
  }));
  return JSON.stringify({ keys }, null, 2) + '\n';
}

function toBase64(bytes: Uint8Array): string {
  // A view, not Buffer.from(bytes), which would leave another copy of the key in the pool.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

function decodeKey(text: string): Uint8Array | undefined {
  // Buffer's decoder skips invalid characters silently, hence the strict pattern first.
  if (!BASE64.test(text)) return undefined;
  const pooled = Buffer.from(text, 'base64');
  if (pooled.length !== KEY_BYTES) return undefined;
  // Small Buffers share a pool slab with unrelated data: keep a private copy, zero the pooled one.
  const own = new Uint8Array(pooled);
  pooled.fill(0);
  return own;
}

function describeIssue(issue: z.ZodIssue): KeyProblem {
  const path = formatKeyPath(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const missing = issue.received === 'undefined';
      return { path, message: missing ? 'required field is missing' : `expected ${issue.expected}, got ${issue.received}` };
    }
    case 'invalid_enum_value':
      return { path, message: `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}` };
    case 'unrecognized_keys':
      return { path, message: `unknown field(s): ${issue.keys.join(', ')}` };
    case 'invalid_string':
      return { path, message: issue.validation === 'datetime' ? 'must be an ISO 8601 date-time' : 'invalid string' };
    case 'too_small':
    case 'too_big':
    case 'custom':
      return { path, message: issue.message };
    default:
      return { path, message: 'invalid value' };
  }
}
