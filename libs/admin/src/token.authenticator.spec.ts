import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { clientKey, FailureLimiter } from './failure.limiter';
import { sha256, TokenAuthenticator } from './token.authenticator';
import { resolveTokens } from './token.loader';

describe('TokenAuthenticator', () => {
  const auth = new TokenAuthenticator([
    { id: 'ops', role: 'admin', sha256: sha256('a'.repeat(40)) },
    { id: 'viewer', role: 'reader', sha256: sha256('b'.repeat(40)) },
  ]);

  it('finds the principal of a known bearer token', () => {
    expect(auth.authenticate(`Bearer ${'a'.repeat(40)}`)).toEqual({ tokenId: 'ops', role: 'admin' });
    expect(auth.authenticate(`Bearer ${'b'.repeat(40)}`)).toEqual({ tokenId: 'viewer', role: 'reader' });
  });

  it('rejects missing, malformed and unknown tokens', () => {
    for (const header of [
      undefined,
      '',
      'Bearer',
      `Basic ${'a'.repeat(40)}`,
      `Bearer ${'a'.repeat(39)}`,
      `Bearer ${'a'.repeat(40)} x`,
      `bearer ${'a'.repeat(40)}`,
    ]) {
      expect(auth.authenticate(header)).toBeUndefined();
    }
  });
});

describe('resolveTokens', () => {
  it('hashes tokens from the environment and reports unusable ones by index and field', () => {
    const { known, problems } = resolveTokens(
      [
        { id: 'a', role: 'admin', env: 'TOKEN_A' },
        { id: 'b', role: 'reader', env: 'MISSING' },
        { id: 'c', role: 'reader', env: 'SHORT' },
        { id: 'a', role: 'reader', file: '/nonexistent/token' },
        { id: 'd', role: 'reader', sha256: 'ab'.repeat(32) },
      ],
      { TOKEN_A: 'x'.repeat(32), SHORT: 'short' },
      '/',
    );
    expect(known.map((k) => k.id)).toEqual(['a', 'd']);
    expect(known[0].sha256).toEqual(sha256('x'.repeat(32)));
    expect(problems).toEqual([
      { index: 1, field: 'env', message: 'environment variable MISSING is not set' },
      { index: 2, field: 'env', message: expect.stringContaining('at least 32 printable characters') },
      { index: 3, field: 'id', message: 'duplicate token id "a"' },
      { index: 3, field: 'file', message: 'cannot read the token file /nonexistent/token' },
    ]);
    expect(JSON.stringify(problems)).not.toContain('short');
  });
});

describe('FailureLimiter', () => {
  it('blocks an address after too many failures until its window ends, and only that address', () => {
    let now = 1_000;
    const limiter = new FailureLimiter(3, 60_000, () => now);
    for (let i = 0; i < 2; i++) limiter.fail('a');
    expect(limiter.blockedFor('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.blockedFor('a')).toBe(60_000);
    expect(limiter.blockedFor('b')).toBe(0);
    now += 59_999;
    expect(limiter.blockedFor('a')).toBe(1);
    now += 1;
    expect(limiter.blockedFor('a')).toBe(0);
  });

  it('counts IPv6 clients by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('10.1.2.3')).toBe('10.1.2.3');
  });

  it('stays bounded with many distinct clients, oldest dropped first, expired ones at once', () => {
    let now = 0;
    const limiter = new FailureLimiter(3, 60_000, () => now, 1_000);
    for (let i = 0; i < 50_000; i++) limiter.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBe(1_000);
    now += 60_000;
    limiter.fail('10.9.9.9');
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBe(1);
  });

  it('says which refusal of a window is the first, so only that one is audited', () => {
    const limiter = new FailureLimiter(1, 60_000, () => 0);
    limiter.fail('a');
    expect([limiter.refused('a'), limiter.refused('a'), limiter.refused('a')]).toEqual([true, false, false]);
  });
});

describe('token file permissions', () => {
  it('refuses a token file group or others can read when tokenFilePermissions is refuse, and warns otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-perm-'));
    try {
      writeFileSync(join(dir, 't'), 'x'.repeat(40), { mode: 0o644 });
      const tokens = [{ id: 'ops', role: 'admin' as const, file: 't' }];
      const refused = resolveTokens(tokens, {}, dir, 'refuse');
      expect(refused.known).toEqual([]);
      expect(refused.problems).toEqual([
        { index: 0, field: 'file', message: expect.stringMatching(/token file .*\/t is readable or writable by its group and others \(mode 0644\)/) },
      ]);
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      expect(resolveTokens(tokens, {}, dir).known.map((k) => k.id)).toEqual(['ops']);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/admin\.tokens\[0\] \(ops\): token file/));
    } finally {
      jest.restoreAllMocks();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
