import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@app/core';
import { KeystoreCorruptError } from './keystore';

/**
 * The highest manifest generation this process has seen for one keystore: a manifest below it
 * is a rollback. Kept in memory for the life of the process (so a worker's reloads share it)
 * and, when `file` is given, persisted (the admin service keeps it beside its audit log) so a
 * restart does not forget it. Persisting is best effort: the in-memory value still protects.
 */
export class GenerationWatermark {
  private value: number;
  private persisting: Promise<void> = Promise.resolve();

  constructor(private readonly file?: string) {
    this.value = file ? readPersisted(file) : 0;
  }

  get highest(): number {
    return this.value;
  }

  /** Raises the mark; returns false (and changes nothing) when `generation` is below it. */
  observe(generation: number): boolean {
    if (generation < this.value) return false;
    if (generation > this.value) {
      this.value = generation;
      const file = this.file;
      if (file) this.persisting = this.persisting.then(() => writeFileAtomic(file, `${JSON.stringify({ generation })}\n`)).catch(() => undefined);
    }
    return true;
  }

  /** Resolves once the latest value is on disk (tests, shutdown). */
  flushed(): Promise<void> {
    return this.persisting;
  }
}

function readPersisted(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new KeystoreCorruptError(`cannot read the keystore generation file ${file} (${(error as NodeJS.ErrnoException).code ?? 'read error'})`);
  }
  let generation: unknown;
  try {
    generation = (JSON.parse(text) as { generation?: unknown } | null)?.generation;
  } catch {
    generation = undefined;
  }
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0)
    throw new KeystoreCorruptError(`keystore generation file ${file} is not {"generation": <integer>}`);
  return generation;
}

/** One watermark per keystore location per process, so a worker's key source reloads keep it. */
const PROCESS_WATERMARKS = new Map<string, GenerationWatermark>();

export function processWatermark(location: string): GenerationWatermark {
  let mark = PROCESS_WATERMARKS.get(location);
  if (!mark) PROCESS_WATERMARKS.set(location, (mark = new GenerationWatermark()));
  return mark;
}
