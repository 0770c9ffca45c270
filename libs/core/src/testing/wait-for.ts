/**
 * Waits until `condition` holds, polling every 50 ms; the one waiting helper of unit and
 * end-to-end tests, so none of them sleeps for a guessed time.
 * @throws Error naming `what` after `timeoutMs`.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
