import { accessSync, constants, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { resolveTokens, KnownToken } from '@app/admin';
import { Environment, Report, YamlDocument } from '@app/config';
import { PlainKeyFile, InvalidKeysError, KeyEntry } from '@app/crypto';
import { readMasterKeyText } from '@app/keystore';
import type { BridgeConfig } from './bridge-config.schema';
import type { TransformConfig } from './transform.schema';

/**
 * Which process loads the configuration. Both read the same file, but the admin section's
 * secrets (tokens, TLS files) are given to the admin service only: a worker that required them
 * would need secrets it never uses, and would fail to start where they are, rightly, absent.
 */
export type ConfigRole = 'worker' | 'admin';

/** Secrets a configuration points at, read once at start-up (never logged). */
export interface ConfigSecrets {
  /** Text of the master key that unwraps `keys.store`. */
  masterKey?: string;
  /** Texts of `keys.previousMasterKeys`, in order. */
  previousMasterKeys: string[];
  /** Hashes of the admin service's bearer tokens. */
  adminTokens?: KnownToken[];
  /** Text of the key that signs control events: control.secret, else the master key. */
  controlKey?: string;
}

export interface KeysRead {
  entries?: KeyEntry[];
  problems?: string[];
}

/** A plain key file is read at validation, so rules naming unknown keys fail before start. */
export async function readPlainKeys(doc: YamlDocument, configFile: string): Promise<KeysRead> {
  const raw = doc.toJS() as { keys?: { file?: unknown } } | null;
  const keysFile = raw?.keys?.file;
  if (typeof keysFile !== 'string' || keysFile === '') return {};
  try {
    return { entries: await new PlainKeyFile(resolve(dirname(configFile), keysFile)).load() };
  } catch (error) {
    if (error instanceof InvalidKeysError) {
      return { problems: error.problems.map((p) => `${error.source}${p.path ? ` ${p.path}` : ''}: ${p.message}`) };
    }
    throw error;
  }
}

/**
 * Rules must name keys the plain key file has. A wrapped keystore is managed through the admin
 * API, which itself reads this configuration, so keys may be created after the rules naming
 * them: messages meanwhile are dead-lettered as `key-unknown`.
 */
export function checkKeys(config: BridgeConfig, report: Report, keys: KeysRead): void {
  for (const problem of keys.problems ?? []) report(['keys', 'file'], problem);
  const names = new Set((keys.entries ?? []).map((e) => e.name));
  for (const { at, transform } of transformsOf(config)) {
    for (const field of ['sourceKey', 'destinationKey'] as const) {
      const name = transform[field];
      if (!name) continue;
      if (!config.keys) report([...at, 'transform', field], `names key ${JSON.stringify(name)} but the configuration has no keys section`);
      else if (keys.entries && !names.has(name)) {
        report([...at, 'transform', field], `key ${JSON.stringify(name)} is not in ${config.keys.file} (known: ${[...names].join(', ') || 'none'})`);
      }
    }
  }
}

/** Every rule's transform, MQTT rules and Kafka rules alike, with its place in the file. */
function transformsOf(config: BridgeConfig): Array<{ at: Array<string | number>; rule: string; transform: TransformConfig }> {
  return [
    ...config.rules.map((rule, r) => ({ at: ['rules', r], rule: rule.name, transform: rule.transform })),
    ...config.fromKafka.map((rule, r) => ({ at: ['fromKafka', r], rule: rule.name, transform: rule.transform })),
  ];
}

/**
 * Reads the master key and, for the admin role, the admin section's secrets into `out`,
 * reporting each one that cannot be used.
 */
export function checkSecrets(config: BridgeConfig, report: Report, env: Environment, configFile: string, out: ConfigSecrets, role: ConfigRole): void {
  const baseDir = dirname(configFile);
  const keys = config.keys;
  if (keys?.store && keys.masterKey) {
    const read = readMasterKeyText(keys.masterKey, env, baseDir);
    if ('text' in read) out.masterKey = read.text;
    else report(['keys', 'masterKey', read.field], read.message);
    keys.previousMasterKeys.forEach((previous, i) => {
      const old = readMasterKeyText(previous, env, baseDir);
      if ('text' in old) out.previousMasterKeys.push(old.text);
      else report(['keys', 'previousMasterKeys', i, old.field], old.message);
    });
    if (
      keys.store.type === 'file' &&
      keys.masterKey.file &&
      nested(dirname(resolve(baseDir, keys.masterKey.file)), dirname(resolve(baseDir, keys.store.path)))
    ) {
      report(
        ['keys', 'masterKey', 'file'],
        'the master key must not be stored beside the keystore it protects (same directory, or one inside the other): move it elsewhere, or use env',
      );
    }
  }
  if (config.control) {
    if (config.control.secret) {
      const read = readMasterKeyText(config.control.secret, env, baseDir);
      if ('text' in read) out.controlKey = read.text;
      else report(['control', 'secret', read.field], read.message);
    } else if (keys?.store && keys.masterKey) {
      out.controlKey = out.masterKey;
    } else {
      report(
        ['control'],
        'control events are signed: set control.secret (base64 of 32 bytes from a file or a variable, as keys.masterKey) or keys.store with keys.masterKey',
      );
    }
  }
  if (config.admin && role === 'admin') {
    for (const field of ['cert', 'key'] as const) {
      const file = config.admin.tls?.[field];
      if (file && !readable(resolve(baseDir, file))) report(['admin', 'tls', field], `cannot read file ${resolve(baseDir, file)}`);
    }
    if (!keys?.store) report(['admin'], 'the admin service manages a wrapped keystore: configure keys.store and keys.masterKey');
    const { known, problems } = resolveTokens(config.admin.tokens, env, baseDir, config.admin.tokenFilePermissions);
    for (const p of problems) report(['admin', 'tokens', p.index, p.field], p.message);
    out.adminTokens = known;
  }
}

/** True when one directory is the other or contains it, symbolic links resolved. */
function nested(a: string, b: string): boolean {
  const [x, y] = [real(a), real(b)];
  const inside = (outer: string, inner: string) => {
    const rel = relative(outer, inner);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  return inside(x, y) || inside(y, x);
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Which rules use each key, for the admin service's delete and purge checks. */
export function keyUsage(config: BridgeConfig): Map<string, string[]> {
  const usage = new Map<string, string[]>();
  for (const { rule, transform } of transformsOf(config)) {
    for (const name of new Set([transform.sourceKey, transform.destinationKey])) {
      if (name) usage.set(name, [...(usage.get(name) ?? []), rule]);
    }
  }
  return usage;
}
