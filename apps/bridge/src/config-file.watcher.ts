import { FSWatcher, realpathSync, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Calls `onChange` when the configuration file's content may have changed, however it was
 * replaced: written in place, renamed over by an editor or a deploy tool, or swapped by
 * Kubernetes, which mounts a ConfigMap as `file -> ..data/file` and updates it by re-pointing
 * the `..data` symlink; then no event ever names the file itself. So any event in the
 * directory leads to a look at what the file now resolves to, and only a different file
 * (path, inode, size or modification time) counts as a change.
 */
export class ConfigFileWatcher {
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private last: string;

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
    private readonly debounceMs = 300,
  ) {
    this.last = this.fingerprint();
  }

  start(): void {
    // The directory, not the file: a watch on the file follows its old inode once replaced.
    this.watcher = watch(dirname(this.file), () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.check(), this.debounceMs);
    });
  }

  close(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  private check(): void {
    const now = this.fingerprint();
    if (now === this.last) return;
    this.last = now;
    this.onChange();
  }

  /** What the file currently is; a missing file (mid-swap) is a state of its own. */
  private fingerprint(): string {
    try {
      const target = realpathSync(this.file);
      const stat = statSync(target);
      return `${target}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
