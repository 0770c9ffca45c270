import { z } from 'zod';
import type { KeyProblem } from '@app/crypto';
import type { GenerationWatermark } from './generation.watermark';
import { KeystoreIntegrityError, KeystoreSnapshot } from './keystore';
import type { MasterKeyRing } from './master-key-ring';
import type { StoredKey } from './stored-key';

/*
 * Each key record carries its own MAC, which proves a record was written by the admin service
 * but not that it is the current one: an old record put back, or a record deleted, would pass.
 * The manifest closes that gap. It lists every key name with the revision and MAC of its
 * current record and has a generation that goes up by one with every write; it is MAC'd under
 * its own key derived from the master key. A reader trusts exactly the records it lists, and
 * refuses a manifest older than the newest it has seen (GenerationWatermark).
 */

export const manifestSchema = z
  .object({
    format: z.literal('bridge-keystore-manifest/1'),
    generation: z.number().int().min(1),
    keys: z.record(z.object({ revision: z.number().int().min(1), mac: z.string().min(1) }).strict()),
    mac: z.string().min(1),
  })
  .strict();

export type KeystoreManifest = z.output<typeof manifestSchema>;
type Listing = KeystoreManifest['keys'];

/** Seals and checks manifests for one keystore; shared by the file and the Kafka keystore. */
export class ManifestAuthority {
  constructor(
    private readonly masters: MasterKeyRing,
    readonly watermark: GenerationWatermark,
  ) {}

  /**
   * The manifest after one write: the previous listing with `name` set to `key` (or removed).
   * The previous listing, not the stored entries, is the base, so a write never vouches for
   * an entry someone else slipped in. A store without a manifest yet (written before
   * manifests existed) starts from its entries whose MAC holds.
   */
  next(previous: KeystoreManifest | undefined, entries: readonly StoredKey[], name: string, key: StoredKey | undefined): KeystoreManifest {
    const base: Listing = previous
      ? { ...previous.keys }
      : Object.fromEntries(entries.filter((k) => this.masters.signerOf(k)).map((k) => [k.name, listing(k)]));
    if (key) base[name] = listing(key);
    else delete base[name];
    const generation = Math.max(previous?.generation ?? 0, this.watermark.highest) + 1;
    const unsigned = { format: 'bridge-keystore-manifest/1' as const, generation, keys: sortedListing(base) };
    return { ...unsigned, mac: this.masters.current.sign(unsigned, 'manifest') };
  }

  /** The manifest when `raw` is one the master key signed, else undefined. */
  parse(raw: unknown): KeystoreManifest | undefined {
    const parsed = manifestSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    const { mac, ...unsigned } = parsed.data;
    return this.masters.authenticates(unsigned, mac, 'manifest') ? parsed.data : undefined;
  }

  /**
   * The snapshot of `entries` under `manifest` (already parsed). Throws KeystoreIntegrityError
   * for a manifest below the watermark, or none where one was seen; raises the watermark.
   */
  check(entries: readonly StoredKey[], manifest: KeystoreManifest | undefined, where: string): KeystoreSnapshot {
    const seen = this.watermark.highest;
    if (!manifest) {
      if (seen > 0)
        throw new KeystoreIntegrityError(
          'keystore-manifest-missing',
          `keystore ${where} has no manifest, but this process saw generation ${seen}: removed or replaced by an old copy; nothing in it is used`,
        );
      return { keys: [...entries], problems: [], generation: 0 };
    }
    if (!this.watermark.observe(manifest.generation)) {
      throw new KeystoreIntegrityError(
        'keystore-rollback',
        `keystore ${where} is at generation ${manifest.generation}, older than generation ${seen} seen before: an old copy was put back; nothing in it is used`,
      );
    }
    const keys: StoredKey[] = [];
    const problems: KeyProblem[] = [];
    const present = new Set<string>();
    for (const key of entries) {
      present.add(key.name);
      const listed = manifest.keys[key.name];
      if (!listed)
        problems.push({
          path: key.name,
          message: `not in the keystore manifest (generation ${manifest.generation}): added outside the admin service; not used`,
        });
      else if (listed.revision !== key.revision || listed.mac !== key.mac)
        problems.push({
          path: key.name,
          message: `revision ${key.revision} is not the one the manifest lists (revision ${listed.revision}, generation ${manifest.generation}): an old or foreign copy was put back; not used`,
        });
      else keys.push(key);
    }
    for (const [name, listed] of Object.entries(manifest.keys)) {
      if (!present.has(name))
        problems.push({
          path: name,
          message: `listed in the keystore manifest at revision ${listed.revision} (generation ${manifest.generation}) but missing: deleted outside the admin service`,
        });
    }
    return { keys, problems, generation: manifest.generation };
  }
}

function listing(key: StoredKey): Listing[string] {
  if (!key.mac) throw new RangeError(`key "${key.name}" must be signed before it is listed in the manifest`);
  return { revision: key.revision, mac: key.mac };
}

function sortedListing(keys: Listing): Listing {
  return Object.fromEntries(Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
