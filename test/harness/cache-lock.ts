import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from './proc';

const LOCK_WAIT_MS = 15 * 60_000;
const STALE_LOCK_MS = 10 * 60_000;

/**
 * Fills a cache directory once: returns at once when `ready()`, otherwise takes a lock directory
 * beside `dir` (several jest workers may ask at the same time), checks again and runs `fill()`.
 * A lock older than 10 minutes is taken to belong to a process that died.
 */
export async function fillCacheOnce(dir: string, what: string, ready: () => boolean, fill: () => Promise<void>): Promise<void> {
  if (ready()) return;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  const lockDeadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (ready()) return;
      const lockTime = fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - lockTime > STALE_LOCK_MS) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > lockDeadline) throw new Error(`timed out waiting for ${lock} (another process resolving ${what}?)`);
      await sleep(500);
    }
  }
  try {
    if (!ready()) await fill();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
