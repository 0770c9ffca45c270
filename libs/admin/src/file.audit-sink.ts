import { FileHandle, open } from 'node:fs/promises';
import type { AuditEvent, AuditSink } from './audit.log';

/** Appends one JSON object per line; O_APPEND keeps concurrent lines whole. */
export class FileAuditSink implements AuditSink {
  private handle?: Promise<FileHandle>;

  constructor(readonly path: string) {}

  describe(): string {
    return this.path;
  }

  /** Opens the file now, so a missing directory or a permission problem stops start-up. */
  async open(): Promise<void> {
    await this.file();
  }

  async append(_event: AuditEvent, line: string): Promise<void> {
    const file = await this.file();
    await file.appendFile(`${line}\n`, 'utf8');
    await file.datasync();
  }

  private file(): Promise<FileHandle> {
    const handle = (this.handle ??= open(this.path, 'a', 0o600));
    // A failed open is not kept: the next event tries again.
    handle.catch(() => {
      if (this.handle === handle) this.handle = undefined;
    });
    return handle;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }
}
