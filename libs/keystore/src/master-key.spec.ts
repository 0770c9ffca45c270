import { SodiumProvider, type Sodium } from '@app/crypto';
import { canonicalJson, MasterKey, MasterKeyError } from './master-key';

describe('MasterKey', () => {
  let sodium: Sodium;
  const text = Buffer.alloc(32, 7).toString('base64');
  const ctx = { name: 'devices', version: 3, type: 'symmetric' as const };

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
  });

  it('unwraps what it wrapped, and the wrapped text holds no plaintext', () => {
    const master = MasterKey.fromText(sodium, `${text}\n`, 'test');
    const secret = new Uint8Array(32).fill(42);
    const wrapped = master.wrap(ctx, secret);
    expect(Buffer.from(wrapped, 'base64').indexOf(Buffer.from(secret))).toBe(-1);
    expect(master.unwrap(ctx, wrapped)).toEqual(secret);
    expect(master.wrap(ctx, secret)).not.toBe(wrapped); // a fresh nonce every time
  });

  it('refuses a record moved to another key, version or type', () => {
    const master = MasterKey.fromText(sodium, text, 'test');
    const wrapped = master.wrap(ctx, new Uint8Array(32).fill(1));
    for (const other of [
      { ...ctx, name: 'other' },
      { ...ctx, version: 4 },
      { ...ctx, type: 'sealed' as const },
    ]) {
      expect(() => master.unwrap(other, wrapped)).toThrow(MasterKeyError);
    }
  });

  it('refuses another master key, naming both ids but no bytes', () => {
    const a = MasterKey.fromText(sodium, text, 'a');
    const b = MasterKey.fromText(sodium, Buffer.alloc(32, 8).toString('base64'), 'b');
    expect(a.id).toMatch(/^kek-[0-9a-f]{16}$/);
    expect(a.id).not.toBe(b.id);
    expect(MasterKey.fromText(sodium, text, 'again').id).toBe(a.id);
    const wrapped = a.wrap(ctx, new Uint8Array(32));
    expect(() => b.unwrap(ctx, wrapped)).toThrow(`does not open with master key ${b.id}`);
    expect(() => b.unwrap(ctx, 'AAAA')).toThrow('malformed');
  });

  it('explains how to make a master key when the text is not 32 bytes of base64', () => {
    expect(() => MasterKey.fromText(sodium, 'c2hvcnQ=', 'env BRIDGE_MASTER_KEY')).toThrow(
      /env BRIDGE_MASTER_KEY must be base64 of exactly 32 bytes.*openssl rand -base64 32/,
    );
    expect(() => MasterKey.fromText(sodium, 'not base64 !!', 'file k')).toThrow(MasterKeyError);
  });

  it('stops unwrapping once wiped', () => {
    const master = MasterKey.fromText(sodium, text, 'test');
    const wrapped = master.wrap(ctx, new Uint8Array(32));
    master.wipe();
    expect(() => master.unwrap(ctx, wrapped)).toThrow(MasterKeyError);
  });

  it('authenticates whole records whatever their key order, and notices any change', () => {
    const master = MasterKey.fromText(sodium, text, 'test');
    const record = { name: 'k', exportable: false, versions: [{ version: 1, state: 'active' }] };
    const mac = master.sign(record);
    expect(master.verify({ versions: [{ state: 'active', version: 1 }], exportable: false, name: 'k' }, mac)).toBe(true);
    expect(master.verify({ ...record, exportable: true }, mac)).toBe(false);
    expect(master.verify({ ...record, versions: [{ version: 1, state: 'revoked' }] }, mac)).toBe(false);
    expect(master.verify(record, undefined)).toBe(false);
    expect(master.verify(record, 'AAAA')).toBe(false);
    expect(MasterKey.fromText(sodium, Buffer.alloc(32, 9).toString('base64'), 'other').verify(record, mac)).toBe(false);
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] })).toBe('{"a":[{"c":"x"}],"b":1}');
  });
});
