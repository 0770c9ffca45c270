import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** The flags the benchmark itself runs with, so a child resolves `@app/*` the same way. */
const TS_FLAGS = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];

/** A message a child sends over IPC: `{ type, ...fields }`. */
export interface ChildMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

/**
 * A TypeScript script run in its own Node process (same ts-node flags as the benchmark), with
 * an IPC channel. Its stdout/stderr lines are echoed with a prefix, and the last ones are kept
 * for error messages.
 */
export class TsChild {
  private readonly lines: string[] = [];
  private readonly waiters = new Set<{ type: string; resolve: (m: ChildMessage) => void }>();
  private readonly listeners = new Set<(m: ChildMessage) => void>();
  private exited?: string;
  private readonly exitWaiters: Array<() => void> = [];

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
    echo: boolean,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > 60) this.lines.shift();
        if (echo) process.stderr.write(`  [${label}] ${line}\n`);
      });
    }
    child.on('message', (m: ChildMessage) => {
      for (const w of [...this.waiters]) {
        if (w.type === m.type) {
          this.waiters.delete(w);
          w.resolve(m);
        }
      }
      for (const l of this.listeners) l(m);
    });
    child.once('exit', (code, sig) => {
      this.exited = `exited with ${sig ?? `code ${code}`}`;
      this.exitWaiters.splice(0).forEach((f) => f());
    });
  }

  /** `flags` replaces the ts-node flags (e.g. for compiled JavaScript). */
  static spawn(
    label: string,
    script: string,
    args: string[],
    opts: { env?: Record<string, string>; execArgv?: string[]; echo?: boolean; flags?: readonly string[] } = {},
  ): TsChild {
    const child = fork(script, args, {
      cwd: REPO_ROOT,
      execArgv: [...(opts.execArgv ?? []), ...(opts.flags ?? TS_FLAGS)],
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new TsChild(label, child, opts.echo ?? true);
  }

  get pid(): number | undefined {
    return this.exited ? undefined : this.child.pid;
  }

  get running(): boolean {
    return this.exited === undefined;
  }

  send(message: ChildMessage): void {
    if (this.running && this.child.connected) this.child.send(message);
  }

  onMessage(listener: (m: ChildMessage) => void): void {
    this.listeners.add(listener);
  }

  /** The next message of `type`; rejects on timeout, on an `error` message or when the child exits. */
  waitFor(type: string, timeoutMs: number): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(this.failure(`${this.label} ${this.exited} before sending "${type}"`));
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        this.waiters.delete(errorWaiter);
        const i = this.exitWaiters.indexOf(onExit);
        if (i >= 0) this.exitWaiters.splice(i, 1);
      };
      const waiter = { type, resolve: (m: ChildMessage) => (cleanup(), resolve(m)) };
      const errorWaiter = {
        type: 'error',
        resolve: (m: ChildMessage) => (cleanup(), reject(this.failure(`${this.label}: ${String(m.message)}`))),
      };
      const onExit = () => (cleanup(), reject(this.failure(`${this.label} ${this.exited} before sending "${type}"`)));
      const timer = setTimeout(() => (cleanup(), reject(this.failure(`${this.label}: no "${type}" within ${timeoutMs} ms`))), timeoutMs);
      this.waiters.add(waiter);
      this.waiters.add(errorWaiter);
      this.exitWaiters.push(onExit);
    });
  }

  /** Sends `message` and waits for the reply of `replyType`. */
  request(message: ChildMessage, replyType: string, timeoutMs = 10_000): Promise<ChildMessage> {
    const reply = this.waitFor(replyType, timeoutMs);
    this.send(message);
    return reply;
  }

  /** Resolves once the child exited; SIGKILL after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL and wait (for error paths). */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await this.waitExit(5_000);
  }

  private failure(message: string): Error {
    return new Error(`${message}\n--- last output of ${this.label} ---\n${this.lines.slice(-25).join('\n') || '(none)'}`);
  }
}
