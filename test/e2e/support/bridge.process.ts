import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
const BRIDGE = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/bridge/src/main.ts')];

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
  const child = spawn(process.execPath, [...BRIDGE, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, started: () => out.includes('bridging'), exited };
}

export function runBridge(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...BRIDGE, ...args], { cwd: ROOT, encoding: 'utf8' });
}
