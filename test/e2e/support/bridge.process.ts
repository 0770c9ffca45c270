import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
const NODE_ARGS = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];
const BRIDGE = [...NODE_ARGS, join(ROOT, 'apps/bridge/src/main.ts')];
const ADMIN = [...NODE_ARGS, join(ROOT, 'apps/admin/src/main.ts')];

/** The `bridge` command line run as its own process, its output collected. */
export interface BridgeProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** True once the worker logged that it is bridging. */
  started(): boolean;
  readonly exited: Promise<number | null>;
}

export function spawnBridge(args: readonly string[], env: NodeJS.ProcessEnv = process.env): BridgeProcess {
  return spawnApp(BRIDGE, args, env, (out) => out.includes('bridging'));
}

/** The admin service as its own process; `started()` once it listens. */
export interface AdminProcess extends BridgeProcess {
  /** http://127.0.0.1:port, read from its start-up log line. */
  url(): string;
}

export function spawnAdmin(args: readonly string[], env: NodeJS.ProcessEnv = process.env): AdminProcess {
  const app = spawnApp(ADMIN, args, env, (out) => /admin API on http:\/\/[^/]+:\d+/.test(out));
  return {
    ...app,
    url: () => {
      const m = /admin API on http:\/\/([^/]+):(\d+)/.exec(app.output());
      if (!m) throw new Error(`the admin service has not started:\n${app.output()}`);
      return `http://127.0.0.1:${m[2]}`;
    },
  };
}

function spawnApp(entry: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv, started: (out: string) => boolean): BridgeProcess {
  const child = spawn(process.execPath, [...entry, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, started: () => started(out), exited };
}

export function runBridge(args: readonly string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...BRIDGE, ...args], { cwd: ROOT, encoding: 'utf8', env });
}

/**
 * The admin command line, run to completion. Asynchronous on purpose: a blocked event loop
 * (spawnSync) keeps the test's idle HTTP connections past the server's keep-alive, and the
 * next request on one fails with "other side closed".
 */
export function runAdmin(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...ADMIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
