import { FileHandle, open } from 'node:fs/promises';
import type { AuditEvent, AuditSink } from './audit.log';

/** Appends one JSON object per line; O_APPEND keeps concurrent lines whole. */
export class FileAuditSink implements AuditSink {
  private handle?: Promise<FileHandle>;

  constructor(readonly path: string) {}

  describe(): string {
    return this.path;
  }

  async append(_event: AuditEvent, line: string): Promise<void> {
    this.handle ??= open(this.path, 'a', 0o600);
    const file = await this.handle;
    await file.appendFile(`${line}\n`, 'utf8');
    await file.datasync();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }
}
