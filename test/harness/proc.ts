import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** State letter and parent pid from /proc/<pid>/stat, or undefined when the process is gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid ..." – comm may contain spaces/parens: fields follow the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while `pid` exists and is not a zombie (exited, but not reaped by its parent yet). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || !exists(pid)) return false;
  const stat = procStat(pid);
  if (!stat) return !fs.existsSync('/proc/self'); // no procfs: trust kill(0)
  return stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * True once `pid` is gone for good: no such process, or a zombie some other process has to reap.
 * A zombie child of ours is not "gone" yet: Node reaps it on its next event-loop turn, and waiting
 * for that keeps a defunct entry from outliving the test process.
 */
function isGone(pid: number): boolean {
  if (!exists(pid)) return true;
  const stat = procStat(pid);
  if (!stat) return fs.existsSync('/proc/self'); // vanished meanwhile – or no procfs: wait on kill(0)
  if (stat.state !== 'Z' && stat.state !== 'X') return false;
  return stat.ppid !== process.pid;
}

/** The command line of `pid` (NUL separators turned into spaces), or '' when unknown. */
export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Resolves once the kernel reports `pid` as stopped (SIGSTOP) or, with `stopped=false`, as running again. */
export async function waitForStopState(pid: number, stopped: boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = procStat(pid);
    if (!stat) return; // gone, or no procfs to check
    if ((stat.state === 'T') === stopped) return;
    if (Date.now() >= deadline) throw new Error(`process ${pid} did not ${stopped ? 'stop' : 'continue'} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Sends `signal`; returns false when the process no longer exists. */
export function signal(pid: number | undefined, sig: NodeJS.Signals): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Polls until `pid` is gone; resolves true if it exited within `timeoutMs`. */
export async function waitForExit(pid: number | undefined, timeoutMs: number): Promise<boolean> {
  if (!pid) return true;
  const deadline = Date.now() + timeoutMs;
  while (!isGone(pid)) {
    if (Date.now() >= deadline) return !isAlive(pid);
    await sleep(50);
  }
  return true;
}

/**
 * SIGTERM, wait up to `graceMs`, then SIGKILL and wait again. A stopped (SIGSTOPped) process is
 * continued first, otherwise it cannot act on SIGTERM.
 */
export async function terminate(pid: number | undefined, graceMs: number): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGTERM');
  signal(pid, 'SIGCONT');
  if (await waitForExit(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 10_000))) throw new Error(`process ${pid} did not exit after SIGKILL`);
}

export async function killHard(pid: number | undefined): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 10_000))) throw new Error(`process ${pid} did not exit after SIGKILL`);
}

/** The last `lines` lines of a text file, or a note saying it could not be read. */
export function tail(file: string, lines = 40): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const all = text.trimEnd().split('\n');
    return all.slice(-lines).join('\n') || '(empty)';
  } catch (err) {
    return `(cannot read ${file}: ${(err as Error).message})`;
  }
}

/** Absolute path of `name` found on PATH (or in `extraDirs`), or undefined. */
export function which(name: string, extraDirs: string[] = []): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The real Node `process`. Inside a jest test file the global `process` is a sandboxed copy with
 * its own (never emitted) event listeners, so `process.on('exit')` there does nothing.
 */
export function realProcess(): NodeJS.Process {
  return vm.runInThisContext('process') as NodeJS.Process;
}

/**
 * A set whose members are killed when the real process exits, shared by every jest test file of
 * the process (each file has its own module registry, so a module-level hook would be installed
 * once per file and pile up 'exit' listeners).
 */
export function killedAtExit<T>(name: string, kill: (member: T) => void): Set<T> {
  const real = realProcess() as NodeJS.Process & Record<symbol, Set<T> | undefined>;
  const key = Symbol.for(`bridge.harness.${name}`);
  let members = real[key];
  if (!members) {
    const created = new Set<T>();
    members = real[key] = created;
    real.on('exit', () => {
      for (const member of created) kill(member);
    });
  }
  return members;
}

let setpriv: string | null | undefined;

/**
 * `argv` prefixed so that the kernel SIGKILLs the program when the process spawning it dies
 * (Linux `setpriv --pdeathsig`, which execs: the pid stays the program's). Unchanged when setpriv
 * is not available. Covers what exit hooks cannot: the test process being SIGKILLed or crashing.
 */
export function dieWithParent(argv: string[]): string[] {
  if (setpriv === undefined) setpriv = (process.platform === 'linux' && which('setpriv')) || null;
  return setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', ...argv] : argv;
}

/** Recorded in every broker temp dir, so a later run can clean up after a crashed one. */
export interface OwnerRecord {
  /** The process whose lifetime bounds the broker (the test process / jest's parent for the shared Kafka). */
  ownerPid: number;
  /** The broker process. */
  pid: number;
}

export const OWNER_FILE = 'harness-owner.json';
export const TEMP_DIR_PREFIXES = ['bridge-mosquitto-', 'bridge-kafka-', 'bridge-registry-'];

export function writeOwner(dir: string, record: OwnerRecord): void {
  fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(record) + '\n');
}

/**
 * Removes broker temp dirs whose owning process is gone (a crashed or killed earlier run), killing
 * their broker first if it still runs. Dirs of live owners (e.g. a concurrent jest run) and dirs
 * without an owner record are left alone.
 */
export async function sweepStaleDirs(): Promise<void> {
  const tmp = os.tmpdir();
  let names: string[];
  try {
    names = fs.readdirSync(tmp);
  } catch {
    return;
  }
  for (const name of names) {
    if (!TEMP_DIR_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const dir = path.join(tmp, name);
    let record: OwnerRecord;
    try {
      record = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    } catch {
      continue;
    }
    if (!record.ownerPid || isAlive(record.ownerPid)) continue;
    if (isAlive(record.pid) && cmdline(record.pid).includes(dir)) await killHard(record.pid).catch(() => undefined);
    if (isAlive(record.pid) && cmdline(record.pid).includes(dir)) continue;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let swept: Promise<void> | undefined;
/** `sweepStaleDirs()` once per process. */
export function sweepStaleDirsOnce(): Promise<void> {
  return (swept ??= sweepStaleDirs().catch(() => undefined));
}

/**
 * Starts a long-running server (Kafka, the schema registry) with its output appended to
 * `logFile` under a start banner, never on the test's console; unref'd, so the starting process
 * may exit. Resolves with the child, which has a pid. `who` names it in errors.
 */
export async function spawnToLog(who: string, what: string, command: readonly string[], cwd: string, logFile: string): Promise<ChildProcess & { pid: number }> {
  const [program, ...args] = command;
  const out = fs.openSync(logFile, 'a');
  fs.writeSync(out, `\n===== harness: starting ${what} at ${new Date().toISOString()} =====\n`);
  const child = spawn(program, args, { cwd, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.unref();
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  if (!child.pid) {
    await sleep(0);
    throw new Error(`${who}: could not spawn ${program}: ${spawnError?.message ?? 'unknown error'}`);
  }
  return child as ChildProcess & { pid: number };
}
