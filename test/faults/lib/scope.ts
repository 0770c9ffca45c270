/**
 * Bounded waiting and guaranteed clean-up for the fault suite.
 *
 * A Scope collects clean-up steps (LIFO) for what a scenario started (broker, worker children,
 * publishers, consumers) and runs each with its own time limit, whatever happened before.
 * `abort()` (the scenario watchdog) runs the emergency steps at once, so a scenario stuck on a
 * dead process fails fast instead of hanging the run.
 */
export class AbortedError extends Error {}

export class Scope {
  private readonly steps: Array<{ what: string; run: () => Promise<unknown> | unknown }> = [];
  private readonly emergency: Array<() => void> = [];
  private abortReason?: string;

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /** Throws once the scope was aborted (call between steps of a long procedure). */
  check(): void {
    if (this.abortReason !== undefined) throw new AbortedError(this.abortReason);
  }

  /** A clean-up step, run by `close()` (last added, first run). */
  defer(what: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ what, run });
  }

  /** A synchronous step for `abort()`: kill something so that whoever waits on it fails. */
  onAbort(kill: () => void): void {
    this.emergency.push(kill);
  }

  abort(reason: string): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    for (const kill of this.emergency.splice(0)) {
      try {
        kill();
      } catch {
        /* best effort */
      }
    }
  }

  /** Runs every clean-up step (each bounded by `stepTimeoutMs`); returns the problems met. */
  async close(stepTimeoutMs = 30_000): Promise<string[]> {
    const problems: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await withTimeout(Promise.resolve().then(step.run), stepTimeoutMs, `clean-up: ${step.what}`);
      } catch (error) {
        problems.push(`${step.what}: ${(error as Error).message}`);
      }
    }
    return problems;
  }

  /** A sleep that ends early (throwing) when the scope is aborted. */
  async sleep(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      this.check();
      await sleep(Math.min(100, until - Date.now()));
    }
    this.check();
  }

  /** Polls `condition` every `pollMs` until true (returns true) or `timeoutMs` passed (returns false). */
  async until(condition: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.check();
      if (await condition()) return true;
      if (Date.now() >= deadline) return false;
      await sleep(pollMs);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Rejects with `what` when `promise` has not settled within `ms` (the promise itself keeps running). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
