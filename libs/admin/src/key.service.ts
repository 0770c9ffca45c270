import type { KeyType, Sodium } from '@app/crypto';
import {
  isAuthentic,
  Keystore,
  KeystoreConflictError,
  KeystoreIntegrityError,
  KeystoreSnapshot,
  KeystoreUnavailableError,
  MasterKeyRing,
  signed,
  StoredKey,
  wrapVersion,
} from '@app/keystore';
import { AuditUnavailableError, InvalidRequestError, KeyNotFoundError, KeyStateError, VersionNotFoundError } from './admin.errors';
import type { AuditLog } from './audit.log';
import { KeyMaterialInput, readKeyMaterial } from './key-material';
import { KeyView, toKeyView } from './key.view';
import { VerifiedKeys } from './verified-keys';

/** Who asked: the token's configured id and the client address, for the audit log. */
export interface Actor {
  readonly tokenId: string;
  readonly remote?: string;
}

/** Published after every change so workers reload at once instead of waiting for their poll. */
export interface KeyChange {
  readonly key: string;
  readonly action: string;
  readonly revision: number;
}

export interface KeyServiceOptions {
  readonly store: Keystore;
  /** Wraps and signs with `current`; records signed by a previous one stay readable until re-wrapped. */
  readonly masters: MasterKeyRing;
  readonly sodium: Sodium;
  readonly audit: AuditLog;
  /** Key name -> names of the rules whose transform uses it. */
  keyUsage(): ReadonlyMap<string, readonly string[]>;
  onChange?(change: KeyChange): void;
  now?(): Date;
}

export interface ExportedKey {
  name: string;
  type: KeyType;
  versions: Array<{ version: number; secret: string; publicKey?: string }>;
}

/**
 * Every key operation of the admin API, on wrapped records: secrets are generated or imported,
 * wrapped at once and wiped; only `export` unwraps. Each call is audited, success or not, and a
 * change is written with the revision it was based on, so concurrent changes fail instead of
 * overwriting each other.
 */
export class KeyService {
  /** The store as far as its manifest and the master keys vouch for it. */
  private readonly keys: VerifiedKeys;

  constructor(private readonly options: KeyServiceOptions) {
    this.keys = new VerifiedKeys(options.store, options.masters, options.audit);
  }

  list(actor: Actor, includeDeleted: boolean): Promise<KeyView[]> {
    return this.audited(actor, 'list', undefined, undefined, 200, async () => {
      const usage = this.options.keyUsage();
      const keys = await this.keys.authentic();
      return keys.filter((k) => includeDeleted || !k.deletedAt).map((k) => toKeyView(k, usage.get(k.name) ?? []));
    });
  }

  get(actor: Actor, name: string): Promise<KeyView> {
    return this.audited(actor, 'get', name, undefined, 200, async () => this.view(await this.keys.find(name, true)));
  }

  create(actor: Actor, req: { name: string; type: KeyType; exportable: boolean }): Promise<KeyView> {
    return this.audited(actor, 'create', req.name, 1, 201, () =>
      this.write('create', req.name, (current, now) => {
        if (current) throw exists(current);
        return this.newKey(req, this.generate(req.type), 'generated', now);
      }),
    );
  }

  import(actor: Actor, req: { name: string; type: KeyType; exportable: boolean } & KeyMaterialInput): Promise<KeyView> {
    return this.audited(actor, 'import', req.name, 1, 201, () =>
      this.write('import', req.name, (current, now) => {
        if (current) throw exists(current);
        return this.newKey(req, readKeyMaterial(this.options.sodium, req.type, req), 'imported', now);
      }),
    );
  }

  /** A new primary version: generated, or imported when `material` is given (keys already on devices). */
  rotate(actor: Actor, name: string, material?: KeyMaterialInput): Promise<KeyView> {
    return this.audited(actor, material ? 'rotate-import' : 'rotate', name, undefined, 200, () =>
      this.write('rotate', name, (current, now) => {
        const key = live(current, name);
        const version = Math.max(...key.versions.map((v) => v.version)) + 1;
        const secret = material ? readKeyMaterial(this.options.sodium, key.type, material, 'material.') : this.generate(key.type);
        const stored = this.wrapped(key, version, secret, material ? 'imported' : 'generated', now);
        return { ...key, primaryVersion: version, versions: [...key.versions, stored] };
      }),
    );
  }

  revoke(actor: Actor, name: string, version: number): Promise<KeyView> {
    return this.audited(actor, 'revoke', name, version, 200, () =>
      this.write('revoke', name, (current) => {
        const key = live(current, name);
        const target = key.versions.find((v) => v.version === version);
        if (!target) throw new VersionNotFoundError(name, version);
        if (version === key.primaryVersion) {
          throw new KeyStateError('primary-version', `version ${version} is the primary version of "${name}"; rotate first, then revoke it`);
        }
        if (target.state === 'revoked') throw new KeyStateError('already-revoked', `version ${version} of "${name}" is already revoked`);
        return { ...key, versions: key.versions.map((v) => (v.version === version ? { ...v, state: 'revoked' as const } : v)) };
      }),
    );
  }

  /** Envelopes sealed with an older version stop opening, whatever those versions' state. */
  setMinDecryptionVersion(actor: Actor, name: string, version: number): Promise<KeyView> {
    return this.audited(actor, 'set-min-decryption-version', name, version, 200, () =>
      this.write('set-min-decryption-version', name, (current) => {
        const key = live(current, name);
        if (!key.versions.some((v) => v.version === version)) throw new VersionNotFoundError(name, version);
        if (version > key.primaryVersion) {
          throw new KeyStateError('above-primary', `minimum decryption version ${version} is above the primary version ${key.primaryVersion} of "${name}"`);
        }
        return { ...key, minDecryptionVersion: version };
      }),
    );
  }

  /**
   * The secrets of an exportable key: every version still decrypting, or just `version`. A
   * retired `version` (revoked, or below the minimum) only with `allowRetired`: revoking is
   * meant to end its use, so handing it out again must be asked for, and is audited as such.
   */
  export(actor: Actor, name: string, version?: number, allowRetired = false): Promise<ExportedKey> {
    return this.audited(actor, allowRetired ? 'export-retired' : 'export', name, version, 200, async () => {
      const key = live(await this.keys.find(name, false), name);
      if (!key.exportable) throw new KeyStateError('not-exportable', `key "${name}" was created non-exportable; its secret never leaves the keystore`);
      const target = version === undefined ? undefined : key.versions.find((v) => v.version === version);
      if (version !== undefined && !target) throw new VersionNotFoundError(name, version);
      if (target && !allowRetired && (target.state === 'revoked' || target.version < key.minDecryptionVersion)) {
        const why = target.state === 'revoked' ? 'is revoked' : `is below the minimum decryption version ${key.minDecryptionVersion}`;
        throw new KeyStateError('version-retired', `version ${target.version} of "${name}" ${why}; ask with allowRetired: true to export it anyway`);
      }
      // No secret leaves unless the attempt is on record first.
      const noted = await this.options.audit.record({
        tokenId: actor.tokenId,
        remote: actor.remote,
        action: allowRetired ? 'export-retired' : 'export',
        key: name,
        ...(version !== undefined ? { version } : {}),
        result: 'requested',
        status: 0,
      });
      if (!noted) throw new AuditUnavailableError();
      const chosen = key.versions.filter((v) =>
        version === undefined ? v.state === 'active' && v.version >= key.minDecryptionVersion : v.version === version,
      );
      return {
        name: key.name,
        type: key.type,
        versions: chosen.map((v) => {
          const secret = this.signer(key).unwrap({ name: key.name, version: v.version, type: key.type }, v.wrapped);
          const text = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString('base64');
          secret.fill(0);
          return { version: v.version, secret: text, ...(v.publicKey ? { publicKey: v.publicKey } : {}) };
        }),
      };
    });
  }

  /** Soft delete: workers stop using the key at once; `restore` undoes it until `purge`. */
  delete(actor: Actor, name: string): Promise<KeyView> {
    return this.audited(actor, 'delete', name, undefined, 200, () =>
      this.write('delete', name, (current, now) => {
        const key = live(current, name);
        this.refuseInUse(name, 'delete');
        return { ...key, deletedAt: now.toISOString() };
      }),
    );
  }

  restore(actor: Actor, name: string): Promise<KeyView> {
    return this.audited(actor, 'restore', name, undefined, 200, () =>
      this.write('restore', name, (current) => {
        if (!current) throw new KeyNotFoundError(name);
        if (!current.deletedAt) throw new KeyStateError('not-deleted', `key "${name}" is not deleted`);
        const { deletedAt: _gone, ...rest } = current;
        return rest;
      }),
    );
  }

  /** Removes a soft-deleted key for good; `confirm` must repeat its name. */
  purge(actor: Actor, name: string, confirm: string | undefined): Promise<void> {
    return this.audited(actor, 'purge', name, undefined, 204, async () => {
      const key = await this.keys.find(name, true);
      if (!key.deletedAt) throw new KeyStateError('not-deleted', `key "${name}" must be deleted before it is purged`);
      if (confirm !== name) throw new InvalidRequestError([{ field: 'confirm', message: `must repeat the key name "${name}" to purge it` }]);
      this.refuseInUse(name, 'purge');
      await this.options.store.remove(name, key.revision).catch(conflictAs(name));
      this.options.onChange?.({ key: name, action: 'purge', revision: key.revision });
    });
  }

  /** Which master key signed how many keys: a previous key can be dropped once it signs none. */
  masterKeyStatus(actor: Actor): Promise<{ current: string; previous: string[]; keysByMasterKey: Record<string, number> }> {
    return this.audited(actor, 'master-key-status', undefined, undefined, 200, async () => {
      const counts: Record<string, number> = Object.fromEntries(this.options.masters.ids.map((id) => [id, 0]));
      for (const key of (await this.keys.state()).keys) {
        const signer = this.options.masters.signerOf(key);
        if (signer) counts[signer.id]++;
      }
      return { current: this.options.masters.current.id, previous: this.options.masters.ids.slice(1), keysByMasterKey: counts };
    });
  }

  /**
   * Re-wraps and re-signs every key (deleted ones too) still under a previous master key with
   * the current one, one key per write; safe to run again after an interruption.
   */
  rewrap(actor: Actor): Promise<{ rewrapped: string[]; current: string }> {
    return this.audited(actor, 'rewrap', undefined, undefined, 200, async () => {
      const rewrapped: string[] = [];
      const current = this.options.masters.current;
      for (const stored of (await this.keys.state()).keys) {
        const signer = this.options.masters.signerOf(stored);
        if (signer === current) continue;
        await this.write('rewrap', stored.name, (key) => {
          if (!key) throw new KeyNotFoundError(stored.name);
          const versions = key.versions.map((v) => {
            const context = { name: key.name, version: v.version, type: key.type };
            const secret = this.signer(key).unwrap(context, v.wrapped);
            try {
              return { ...v, wrapped: current.wrap(context, secret) };
            } finally {
              secret.fill(0);
            }
          });
          return { ...key, versions };
        });
        rewrapped.push(stored.name);
      }
      return { rewrapped, current: current.id };
    });
  }

  private signer(key: StoredKey) {
    const signer = this.options.masters.signerOf(key);
    if (!signer) throw new KeyStateError('integrity-failed', `key "${key.name}" fails its integrity check`);
    return signer;
  }

  private async write(action: string, name: string, change: (current: StoredKey | undefined, now: Date) => StoredKey): Promise<KeyView> {
    const stored = await this.keys.entry(name);
    const current = stored && this.keys.checked(stored);
    const now = this.options.now?.() ?? new Date();
    const next = signed({ ...change(current, now), revision: (stored?.revision ?? 0) + 1, updatedAt: now.toISOString() }, this.options.masters.current);
    await this.options.store.put(next, stored?.revision ?? 0).catch(conflictAs(name));
    this.options.onChange?.({ key: name, action, revision: next.revision });
    return this.view(next);
  }

  private newKey(
    req: { name: string; type: KeyType; exportable: boolean },
    material: { secret: Uint8Array; publicKey?: Uint8Array },
    origin: 'generated' | 'imported',
    now: Date,
  ): StoredKey {
    const stamp = now.toISOString();
    const base = {
      name: req.name,
      type: req.type,
      exportable: req.exportable,
      createdAt: stamp,
      updatedAt: stamp,
      revision: 1,
      primaryVersion: 1,
      minDecryptionVersion: 1,
    };
    return { ...base, versions: [this.wrapped(base, 1, material, origin, now)] };
  }

  private wrapped(
    key: { name: string; type: KeyType },
    version: number,
    material: { secret: Uint8Array; publicKey?: Uint8Array },
    origin: 'generated' | 'imported',
    now: Date,
  ) {
    try {
      return wrapVersion(this.options.masters.current, key, version, material, origin, now);
    } finally {
      material.secret.fill(0);
    }
  }

  private generate(type: KeyType): { secret: Uint8Array; publicKey?: Uint8Array } {
    if (type === 'symmetric') return { secret: this.options.sodium.crypto_aead_xchacha20poly1305_ietf_keygen() };
    const pair = this.options.sodium.crypto_box_keypair();
    return { secret: pair.privateKey, publicKey: pair.publicKey };
  }

  private view(key: StoredKey): KeyView {
    return toKeyView(key, this.options.keyUsage().get(key.name) ?? []);
  }

  private refuseInUse(name: string, action: string): void {
    const rules = this.options.keyUsage().get(name) ?? [];
    if (rules.length > 0) throw new KeyStateError('key-in-use', `cannot ${action} key "${name}": rule(s) ${rules.join(', ')} use it`);
  }

  private async audited<T>(
    actor: Actor,
    action: string,
    key: string | undefined,
    version: number | undefined,
    okStatus: number,
    run: () => Promise<T>,
  ): Promise<T> {
    const base = { tokenId: actor.tokenId, remote: actor.remote, action, ...(key !== undefined ? { key } : {}), ...(version !== undefined ? { version } : {}) };
    try {
      const result = await run();
      await this.options.audit.record({ ...base, result: 'ok', status: okStatus });
      return result;
    } catch (error) {
      const e = error as { status?: number; code?: string };
      const status = e.status ?? (error instanceof KeystoreUnavailableError ? 503 : error instanceof KeystoreIntegrityError ? 409 : 500);
      await this.options.audit.record({ ...base, result: 'failed', status, code: e.code ?? 'internal' });
      throw error;
    }
  }
}

function live(key: StoredKey | undefined, name: string): StoredKey {
  if (!key) throw new KeyNotFoundError(name);
  if (key.deletedAt) throw new KeyNotFoundError(name, ' (it is deleted; restore it first)');
  return key;
}

function exists(key: StoredKey): KeyStateError {
  return new KeyStateError('key-exists', `key "${key.name}" already exists${key.deletedAt ? ' (deleted; restore or purge it)' : ''}`);
}

function conflictAs(name: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof KeystoreConflictError)
      throw new KeyStateError('concurrent-change', `key "${name}" was changed by another request meanwhile; read it again and retry`);
    throw error;
  };
}
