import { sleep } from '../../test/harness/proc';

const POLL_MS = 20;

/** Whether `condition` held within `timeoutMs`; the demo reports a miss instead of throwing. */
export async function pollUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}
