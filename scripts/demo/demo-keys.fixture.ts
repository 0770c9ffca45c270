import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKeyFile, generateKeyEntry, KeyEntry, PublisherKey, SodiumProvider } from '@app/crypto';

/** The demo's two keys, fresh on every run, so no key material lives in the repository. */
export interface DemoKeys {
  /** The plain key file the bridge reads (config/bridge.demo.yaml's DEMO_KEYS_FILE). */
  readonly file: string;
  /** What the devices seal with. */
  readonly devices: PublisherKey;
  /** What the bridge seals with for consumers, and what they open with. */
  readonly consumers: PublisherKey;
  remove(): void;
}

export async function createDemoKeys(): Promise<DemoKeys> {
  const sodium = await new SodiumProvider().ready();
  const devices = generateKeyEntry(sodium, 'devices', 'symmetric');
  const consumers = generateKeyEntry(sodium, 'consumers', 'symmetric');
  const dir = mkdtempSync(join(tmpdir(), 'bridge-demo-'));
  const file = join(dir, 'keys.json');
  writeFileSync(file, formatKeyFile([devices, consumers]), { mode: 0o600 });
  return { file, devices: primary(devices), consumers: primary(consumers), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A key as a device or consumer holds it: its primary version only. */
function primary(entry: KeyEntry): PublisherKey {
  const v = entry.versions.find((x) => x.version === entry.primaryVersion)!;
  return { name: entry.name, version: v.version, secret: v.secret, publicKey: v.publicKey };
}
