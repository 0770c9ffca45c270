import { existsSync } from 'node:fs';
import { PlainKeyFile, generateKeyEntry, KeyEntry, revokeKeyVersion, rotateKeyEntry, SodiumProvider } from '@app/crypto';

export const KEYS_USAGE = `  keys <file> list                        names, types, versions and states (never key bytes)
  keys <file> create <name> symmetric|sealed
  keys <file> rotate <name>                add a version and make it primary
  keys <file> revoke <name> <version>      envelopes of that version stop opening
  keys <file> public <name>                print a sealed key's public key (base64), for devices`;

/**
 * File-based key management for a single host: edits the key file atomically; running
 * workers pick the change up on their next poll.
 */
export async function keysCommand(args: readonly string[], out: (line: string) => void): Promise<number> {
  const [file, action, name, arg] = args;
  if (!file || !action) throw new UsageError();
  const store = new PlainKeyFile(file);
  const sodium = await new SodiumProvider().ready();
  // Only `create` may start a new file; an existing file that does not parse is never overwritten.
  const entries: KeyEntry[] = action === 'create' && !existsSync(file) ? [] : await store.load();
  const index = entries.findIndex((e) => e.name === name);
  const existing = () => {
    if (!name) throw new UsageError();
    if (index < 0) throw new Error(`no key named ${JSON.stringify(name)} in ${file}`);
    return entries[index];
  };
  switch (action) {
    case 'list':
      for (const e of entries) {
        const versions = e.versions.map((v) => `v${v.version}${v.version === e.primaryVersion ? '*' : ''}:${v.state}`).join(' ');
        out(`${e.name}\t${e.type}\tmin-decrypt v${e.minDecryptionVersion}\t${versions}`);
      }
      return 0;
    case 'create': {
      if (!name || (arg !== 'symmetric' && arg !== 'sealed')) throw new UsageError();
      if (index >= 0) throw new Error(`key ${JSON.stringify(name)} already exists in ${file}; rotate it instead`);
      await store.save([...entries, generateKeyEntry(sodium, name, arg)]);
      out(`created ${name} (${arg}) v1 in ${file}`);
      return 0;
    }
    case 'rotate': {
      const rotated = rotateKeyEntry(sodium, existing());
      await store.save(entries.map((e, i) => (i === index ? rotated : e)));
      out(`rotated ${name}: primary is now v${rotated.primaryVersion}`);
      return 0;
    }
    case 'revoke': {
      const version = Number(arg);
      if (!Number.isInteger(version) || version < 1) throw new UsageError();
      const revoked = revokeKeyVersion(existing(), version);
      await store.save(entries.map((e, i) => (i === index ? revoked : e)));
      out(`revoked ${name} v${version}`);
      return 0;
    }
    case 'public': {
      const entry = existing();
      const primary = entry.versions.find((v) => v.version === entry.primaryVersion);
      if (entry.type !== 'sealed' || !primary?.publicKey) throw new Error(`${name} is not a sealed (X25519) key`);
      out(`${name} v${primary.version} ${Buffer.from(primary.publicKey).toString('base64')}`);
      return 0;
    }
    default:
      throw new UsageError();
  }
}

export class UsageError extends Error {
  constructor() {
    super('usage');
  }
}
