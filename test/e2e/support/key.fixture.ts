import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatKeyFile, generateKeyEntry, KeyEntry, KeyType, PublisherKey, SodiumProvider } from '@app/crypto';

/** What a device or a consumer holds of one key entry: one version's material. */
export function holder(entry: KeyEntry, version = entry.primaryVersion): PublisherKey {
  const v = entry.versions.find((x) => x.version === version)!;
  return { name: entry.name, version, secret: v.secret, publicKey: v.publicKey };
}

/** Fresh keys for one spec, written to the plain key file a worker reads (`keys: { file }`). */
export interface TestKeys {
  readonly file: string;
  readonly entries: Readonly<Record<string, KeyEntry>>;
}

/** Generates one entry per name (symmetric unless said otherwise) and writes them to `<dir>/keys.json`. */
export async function writeTestKeys(dir: string, names: Readonly<Record<string, KeyType>>): Promise<TestKeys> {
  const sodium = await new SodiumProvider().ready();
  const entries = Object.fromEntries(Object.entries(names).map(([name, type]) => [name, generateKeyEntry(sodium, name, type)]));
  const file = join(dir, 'keys.json');
  writeFileSync(file, formatKeyFile(Object.values(entries)));
  return { file, entries };
}
