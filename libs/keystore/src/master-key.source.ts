import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Environment } from '@app/config';
import type { MasterKeyConfig } from './keystore.schema';
import { secretFilePermissionProblem } from './secret-file.permissions';

/**
 * Reads the master key's text from its file or variable. Only availability is checked here
 * (MasterKey.fromText checks the format), so start-up can report every problem at once.
 */
export function readMasterKeyText(config: MasterKeyConfig, env: Environment, baseDir: string): { text: string } | { field: 'file' | 'env'; message: string } {
  if (config.file) {
    const path = resolve(baseDir, config.file);
    const loose = secretFilePermissionProblem(path);
    if (loose && config.permissions === 'refuse') return { field: 'file', message: `master key file ${loose} (keys.masterKey.permissions: refuse)` };
    if (loose) new Logger('Secrets').warn(`master key file ${loose}`);
    try {
      const text = readFileSync(path, 'utf8');
      const problem = masterKeyTextProblem(text);
      return problem ? { field: 'file', message: `${path}: ${problem}` } : { text };
    } catch (error) {
      return { field: 'file', message: `cannot read the master key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'read error'})` };
    }
  }
  const value = env[config.env as string];
  if (!value) return { field: 'env', message: `environment variable ${config.env} is not set` };
  const problem = masterKeyTextProblem(value);
  return problem ? { field: 'env', message: `${config.env}: ${problem}` } : { text: value };
}

/** The same checks as MasterKey.fromText, without libsodium, for `bridge validate`. */
export function masterKeyTextProblem(text: string): string | undefined {
  const trimmed = text.trim();
  const ok = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(trimmed) && Buffer.byteLength(trimmed, 'base64') === 32;
  return ok ? undefined : 'the master key must be base64 of exactly 32 bytes (make one with: openssl rand -base64 32)';
}
