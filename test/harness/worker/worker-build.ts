import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './ts-child';

/** Where the compiled worker goes (under dist/, which is gitignored). */
const BUILD_DIR = path.join(REPO_ROOT, 'dist', 'bench-worker');

/** How a worker child is started: the script and the Node flags and environment it needs. */
export interface WorkerLaunch {
  readonly mode: 'ts-node' | 'compiled';
  readonly script: string;
  readonly flags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

let compiled: WorkerLaunch | undefined;

/**
 * BENCH_WORKER=compiled runs the worker as JavaScript compiled by tsc (what a deployment runs),
 * so its memory and CPU figures carry no ts-node; the default runs the TypeScript sources
 * through ts-node like the rest of the benchmark. The build covers worker-process.ts and what
 * it imports, and is made once per benchmark run. `@app/*` imports are resolved at run time by
 * tsconfig-paths against the build directory (TS_NODE_BASEURL), a few hundred KB.
 */
export function workerLaunch(): WorkerLaunch {
  if (process.env.BENCH_WORKER !== 'compiled') {
    return {
      mode: 'ts-node',
      script: path.join(__dirname, 'worker-process.ts'),
      flags: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      env: {},
    };
  }
  compiled ??= build();
  return compiled;
}

function build(): WorkerLaunch {
  fs.rmSync(BUILD_DIR, { recursive: true, force: true });
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const project = path.join(BUILD_DIR, 'tsconfig.json');
  const config = {
    extends: path.relative(BUILD_DIR, path.join(REPO_ROOT, 'tsconfig.json')),
    compilerOptions: { outDir: '.', rootDir: path.relative(BUILD_DIR, REPO_ROOT), sourceMap: false, declaration: false, incremental: false },
    files: [path.relative(BUILD_DIR, path.join(REPO_ROOT, 'test', 'harness', 'worker', 'worker-process.ts'))],
    include: [],
  };
  fs.writeFileSync(project, JSON.stringify(config, null, 2));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
  const script = path.join(BUILD_DIR, 'test', 'harness', 'worker', 'worker-process.js');
  if (!fs.existsSync(script)) throw new Error(`tsc did not produce ${script}`);
  return {
    mode: 'compiled',
    script,
    flags: ['-r', 'tsconfig-paths/register'],
    env: { TS_NODE_BASEURL: BUILD_DIR, TS_NODE_PROJECT: path.join(REPO_ROOT, 'tsconfig.json') },
  };
}
