import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../../test/harness/worker/ts-child';

/**
 * Resident memory of an idle Node process, bare and with the benchmark's ts-node flags: what the
 * worker's RSS figures include before the bridge loads anything (a compiled build has no ts-node).
 */
export function rssBaselines(): { nodeMb?: number; tsNodeMb?: number } {
  const probe = 'setTimeout(() => process.stdout.write(String(process.memoryUsage().rss)), 200)';
  const measure = (args: string[]): number | undefined => {
    try {
      const out = execFileSync(process.execPath, [...args, '-e', probe], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
      return Number(out.trim()) / (1024 * 1024);
    } catch {
      return undefined;
    }
  };
  return {
    nodeMb: measure([]),
    tsNodeMb: measure(['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register']),
  };
}
