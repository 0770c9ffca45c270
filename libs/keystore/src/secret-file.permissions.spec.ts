import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { masterKeySchema } from './keystore.schema';
import { readMasterKeyText } from './master-key.source';
import { secretFilePermissionProblem } from './secret-file.permissions';

describe('secret file permissions', () => {
  let dir: string;
  let file: string;
  const key = Buffer.alloc(32, 7).toString('base64');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'perm-spec-'));
    file = join(dir, 'kek');
    writeFileSync(file, key, { mode: 0o600 });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts an owner-only file and names who else can read a loose one, with the fix', () => {
    expect(secretFilePermissionProblem(file)).toBeUndefined();
    chmodSync(file, 0o640);
    expect(secretFilePermissionProblem(file)).toBe(`${file} is readable or writable by its group (mode 0640); make it private: chmod 600 ${file}`);
    chmodSync(file, 0o644);
    expect(secretFilePermissionProblem(file)).toMatch(/by its group and others \(mode 0644\)/);
  });

  it('refuses a loose master key file when configured to, and otherwise warns and reads it', () => {
    chmodSync(file, 0o604);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(readMasterKeyText(masterKeySchema.parse({ file: 'kek', permissions: 'refuse' }), {}, dir)).toEqual({
      field: 'file',
      message: expect.stringMatching(/^master key file .*kek is readable or writable by others \(mode 0604\).*permissions: refuse/),
    });
    expect(warn).not.toHaveBeenCalled();
    expect(readMasterKeyText(masterKeySchema.parse({ file: 'kek' }), {}, dir)).toEqual({ text: key });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/master key file .*kek is readable or writable by others/));
  });
});
