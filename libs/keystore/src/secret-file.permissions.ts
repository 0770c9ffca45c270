import { statSync } from 'node:fs';

/** What to do with a secret file (master key, token) that group or others can read. */
export type LoosePermissions = 'warn' | 'refuse';

/**
 * The problem with a secret file's mode, or undefined when only its owner can read it. Not
 * checked on Windows, whose modes do not say who can read.
 */
export function secretFilePermissionProblem(path: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return undefined; // reading it reports the missing file
  }
  if ((mode & 0o077) === 0) return undefined;
  return `${path} is readable or writable by ${mode & 0o070 ? 'its group' : ''}${mode & 0o070 && mode & 0o007 ? ' and ' : ''}${mode & 0o007 ? 'others' : ''} (mode ${mode.toString(8).padStart(4, '0')}); make it private: chmod 600 ${path}`;
}
