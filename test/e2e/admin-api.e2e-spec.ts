import { readFileSync, writeFileSync } from 'node:fs';
import { SodiumProvider } from '@app/crypto';
import { WrappedFileKeystore, MasterKey, MasterKeyRing, openStoredKeys } from '@app/keystore';
import { AdminProcess, runAdmin } from './support/bridge.process';
import { AdminWorkspace, stopProcess } from './support/admin.fixture';
import { uniqueId, waitFor } from './support/bridge.fixture';

/** Every route of the API, with a body that would be valid for it. */
const ROUTES: Array<{ method: string; path: string; write: boolean; body?: unknown }> = [
  { method: 'GET', path: '/v1/keys', write: false },
  { method: 'GET', path: '/v1/keys/some-key', write: false },
  { method: 'POST', path: '/v1/keys', write: true, body: { name: 'x1', type: 'symmetric' } },
  { method: 'POST', path: '/v1/keys/import', write: true, body: { name: 'x2', type: 'symmetric', secret: Buffer.alloc(32, 1).toString('base64') } },
  { method: 'POST', path: '/v1/keys/some-key/rotate', write: true, body: {} },
  { method: 'POST', path: '/v1/keys/some-key/versions/1/revoke', write: true },
  { method: 'PUT', path: '/v1/keys/some-key/min-decryption-version', write: true, body: { version: 1 } },
  { method: 'POST', path: '/v1/keys/some-key/export', write: true, body: {} },
  { method: 'DELETE', path: '/v1/keys/some-key', write: true },
  { method: 'POST', path: '/v1/keys/some-key/restore', write: true },
  { method: 'DELETE', path: '/v1/keys/some-key/purge?confirm=some-key', write: true },
  { method: 'POST', path: '/v1/reload', write: true },
  { method: 'GET', path: '/v1/master-key', write: false },
  { method: 'POST', path: '/v1/master-key/rewrap', write: true },
];

function config(ws: AdminWorkspace, id: string, options: { maxAuthFailures?: number } = {}): string {
  return `
mqtt: { url: "mqtt://127.0.0.1:1" }
kafka: { brokers: ["127.0.0.1:1"] }
${ws.sections(options)}
rules:
  - name: uses-in-use
    filters: ["${id}/in/+"]
    transform: { mode: decrypt, sourceKey: in-use }
    destinations: [{ type: kafka, topic: "${id}.out" }]
`;
}

describe('admin REST service: auth, validation, lifecycle, OpenAPI, crash safety', () => {
  const ws = new AdminWorkspace();
  const id = uniqueId('adm');
  let admin: AdminProcess;
  let sodium: Awaited<ReturnType<SodiumProvider['ready']>>;

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
    admin = await ws.startAdmin(ws.writeConfig('bridge.yaml', config(ws, id)));
  }, 90_000);

  afterAll(async () => {
    await stopProcess(admin);
    ws.dispose();
  });

  it('answers 401 on every route without a valid token and 403 on writes with a read-only token', async () => {
    for (const route of ROUTES) {
      const none = await ws.call(admin, route.method, route.path, undefined, route.body);
      expect([route.method, route.path, none.status]).toEqual([route.method, route.path, 401]);
      const wrong = await ws.call(admin, route.method, route.path, 'not-a-token-but-long-enough-to-look-like-one', route.body);
      expect([route.method, route.path, wrong.status]).toEqual([route.method, route.path, 401]);
      const reader = await ws.call(admin, route.method, route.path, 'reader', route.body);
      if (route.write) expect([route.method, route.path, reader.status]).toEqual([route.method, route.path, 403]);
      else expect([route.method, route.path, [200, 404].includes(reader.status)]).toEqual([route.method, route.path, true]);
    }
    // Nothing of a request is looked at before its token: not its body, nor whether the route exists.
    expect((await ws.call(admin, 'POST', '/v1/keys', undefined, '{not json')).status).toBe(401);
    expect((await ws.call(admin, 'POST', '/v1/keys', undefined, { pad: 'x'.repeat(10_000) })).status).toBe(401);
    expect((await ws.call(admin, 'GET', '/v1/no-such-route')).status).toBe(401);
  });

  it('refuses bad input with 400 naming the field, unknown keys with 404, conflicts with 409 and large bodies with 413', async () => {
    const bad = await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'has space', type: 'weird', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.problems.map((p: { field: string }) => p.field).sort()).toEqual(['', 'name', 'type']);
    expect((await ws.call(admin, 'POST', '/v1/keys', 'admin', '{not json')).status).toBe(400);
    expect((await ws.call(admin, 'POST', '/v1/keys/import', 'admin', { name: 'imp', type: 'symmetric', secret: 'c2hvcnQ=' })).json.problems).toEqual([
      { field: 'secret', message: 'must be base64 of exactly 32 bytes' },
    ]);
    expect((await ws.call(admin, 'GET', '/v1/keys/nope', 'admin')).status).toBe(404);
    expect((await ws.call(admin, 'POST', '/v1/keys/nope/rotate', 'admin', {})).status).toBe(404);
    expect((await ws.call(admin, 'POST', '/v1/keys/nope/versions/abc/revoke', 'admin')).json.problems[0].field).toBe('version');

    expect((await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'k1', type: 'symmetric' })).status).toBe(201);
    const again = await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'k1', type: 'sealed' });
    expect([again.status, again.json.error]).toEqual([409, 'key-exists']);
    const primary = await ws.call(admin, 'POST', '/v1/keys/k1/versions/1/revoke', 'admin');
    expect([primary.status, primary.json.error]).toEqual([409, 'primary-version']);
    const notExportable = await ws.call(admin, 'POST', '/v1/keys/k1/export', 'admin', {});
    expect([notExportable.status, notExportable.json.error]).toEqual([409, 'not-exportable']);
    expect((await ws.call(admin, 'POST', '/v1/keys/k1/versions/7/revoke', 'admin')).status).toBe(404);

    const big = await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'big', type: 'symmetric', pad: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
    // A body that is not JSON is refused, not read as empty (which would turn an import into a generation).
    const text = await fetch(`${admin.url()}/v1/keys/k1/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.adminToken}`, 'content-type': 'text/plain' },
      body: '{"material":{}}',
    });
    expect(text.status).toBe(415);
    // Nothing half-written: the refused requests left k1 alone and created nothing else.
    const list = await ws.call(admin, 'GET', '/v1/keys?deleted=true', 'reader');
    expect(list.json.keys.map((k: { name: string }) => k.name)).toEqual(['k1']);
    expect(list.json.keys[0].revision).toBe(1);
  });

  it('rotates, revokes, raises the minimum version, and soft-deletes, restores and purges keys no rule uses', async () => {
    expect((await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'life', type: 'sealed', exportable: true })).status).toBe(201);
    expect((await ws.call(admin, 'POST', '/v1/keys/life/rotate', 'admin', {})).json.primaryVersion).toBe(2);
    const revoked = await ws.call(admin, 'POST', '/v1/keys/life/versions/1/revoke', 'admin');
    expect(revoked.json.versions.map((v: { state: string }) => v.state)).toEqual(['revoked', 'active']);
    expect(revoked.json.versions.every((v: { publicKey?: string }) => typeof v.publicKey === 'string')).toBe(true);
    expect((await ws.call(admin, 'PUT', '/v1/keys/life/min-decryption-version', 'admin', { version: 2 })).json.minDecryptionVersion).toBe(2);
    expect((await ws.call(admin, 'PUT', '/v1/keys/life/min-decryption-version', 'admin', { version: 3 })).status).toBe(404);

    expect((await ws.call(admin, 'DELETE', '/v1/keys/life/purge?confirm=life', 'admin')).json.error).toBe('not-deleted');
    expect((await ws.call(admin, 'DELETE', '/v1/keys/life', 'admin')).json.state).toBe('deleted');
    expect((await ws.call(admin, 'GET', '/v1/keys', 'reader')).json.keys.map((k: { name: string }) => k.name)).not.toContain('life');
    expect((await ws.call(admin, 'POST', '/v1/keys/life/restore', 'admin')).json.state).toBe('enabled');
    expect((await ws.call(admin, 'DELETE', '/v1/keys/life', 'admin')).status).toBe(200);
    expect((await ws.call(admin, 'DELETE', '/v1/keys/life/purge?confirm=wrong', 'admin')).json.problems[0].field).toBe('confirm');
    expect((await ws.call(admin, 'DELETE', '/v1/keys/life/purge?confirm=life', 'admin')).status).toBe(204);
    expect((await ws.call(admin, 'GET', '/v1/keys/life', 'admin')).status).toBe(404);

    // A key a rule uses cannot be deleted.
    expect((await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'in-use', type: 'symmetric' })).json.usedBy).toEqual(['uses-in-use']);
    const refused = await ws.call(admin, 'DELETE', '/v1/keys/in-use', 'admin');
    expect([refused.status, refused.json.error]).toEqual([409, 'key-in-use']);
  });

  it('writes one audit line per operation, without secrets', async () => {
    const lines = readFileSync(ws.auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const rotate = lines.find((l) => l.action === 'rotate' && l.key === 'life');
    expect(rotate).toEqual({ time: expect.any(String), tokenId: 'ops', remote: expect.any(String), action: 'rotate', key: 'life', result: 'ok', status: 200 });
    expect(lines.find((l) => l.action === 'revoke' && l.key === 'life')).toMatchObject({ version: 1, result: 'ok' });
    expect(lines.find((l) => l.status === 403)).toMatchObject({ tokenId: 'viewer', result: 'denied', code: 'forbidden' });
    expect(lines.find((l) => l.status === 401)).toMatchObject({ tokenId: '-', result: 'denied' });
    expect(lines.find((l) => l.action === 'export' && l.key === 'k1')).toMatchObject({ result: 'failed', status: 409, code: 'not-exportable' });
    for (const l of lines)
      expect(Object.keys(l).every((k) => ['time', 'tokenId', 'remote', 'action', 'key', 'version', 'result', 'status', 'code'].includes(k))).toBe(true);
  });

  it('publishes an OpenAPI document at /docs listing every route with its schemas', async () => {
    const doc = (await ws.call(admin, 'GET', '/docs-json')).json;
    const listed = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const expected = ROUTES.map((r) => `${r.method} ${r.path.split('?')[0].replace('some-key', '{name}').replace('/1/', '/{version}/')}`);
    expect(listed.sort()).toEqual([...new Set(expected)].sort());
    const create = doc.paths['/v1/keys'].post;
    expect(create.requestBody.content['application/json'].schema.properties.type.enum).toEqual(['symmetric', 'sealed']);
    expect(create.responses['201'].content['application/json'].schema.properties.versions.type).toBe('array');
    expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '401', '403', '409', '413', '429']);
    expect(doc.components.securitySchemes.bearer.scheme).toBe('bearer');
    expect((await fetch(`${admin.url()}/docs`)).status).toBe(200);
  });

  it('has a command line over the API for operators', async () => {
    const common = ['--url', admin.url(), '--token-file', `${ws.secrets}/admin.token`];
    const created = await runAdmin(['keys', 'create', 'cli-key', 'sealed', ...common]);
    expect([created.status, created.stderr]).toEqual([0, '']);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'cli-key', type: 'sealed', primaryVersion: 1 });
    expect((await runAdmin(['keys', 'rotate', 'cli-key', ...common])).status).toBe(0);
    const listed = await runAdmin(['keys', 'list', ...common]);
    expect(listed.stdout).toMatch(/^cli-key\tsealed\tenabled\tprimary v2\t2 version\(s\)$/m);
    const refused = await runAdmin(['keys', 'export', 'cli-key', ...common]);
    expect([refused.status, refused.stdout]).toEqual([1, expect.stringContaining('409')]);
    expect((await runAdmin(['keys', 'frobnicate', ...common])).status).toBe(2);
  }, 60_000);

  it('reload takes the new token list: a removed token stops working at once', async () => {
    const file = `${ws.dir}/bridge.yaml`;
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/\n    - \{ id: viewer[^\n]*/, ''));
    try {
      expect((await ws.call(admin, 'POST', '/v1/reload', 'admin')).status).toBe(202);
      expect((await ws.call(admin, 'GET', '/v1/keys', 'reader')).status).toBe(401);
    } finally {
      writeFileSync(file, original);
      expect((await ws.call(admin, 'POST', '/v1/reload', 'admin')).status).toBe(202);
    }
    expect((await ws.call(admin, 'GET', '/v1/keys', 'reader')).status).toBe(200);
  });

  it('survives kill -9 in the middle of writes: the keystore stays readable and every acknowledged key is intact', async () => {
    const file = ws.writeConfig('crash.yaml', config(ws, id).replace('data/keystore.json', 'data/crash-keystore.json'));
    const master = MasterKey.fromText(sodium, ws.masterKey, 'test');
    const acknowledged = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      const crashing = await ws.startAdmin(file);
      let n = 0;
      let stop = false;
      const writers = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const name = `c${round}-${n++}`;
          const secret = Buffer.from(sodium.randombytes_buf(32)).toString('base64');
          const r = await ws.call(crashing, 'POST', '/v1/keys/import', 'admin', { name, type: 'symmetric', secret }).catch(() => undefined);
          if (r?.status === 201) acknowledged.set(name, secret);
        }
      });
      await waitFor(() => n >= 40 + round * 17, 30_000, 'writes in progress');
      crashing.child.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      await crashing.exited;
      const { entries, problems } = openStoredKeys(
        await new WrappedFileKeystore(`${ws.data}/crash-keystore.json`, master.id).list(),
        new MasterKeyRing(master),
      );
      expect(problems).toEqual([]);
      const stored = new Map(entries.map((e) => [e.name, Buffer.from(e.versions[0].secret).toString('base64')]));
      for (const [name, secret] of acknowledged) expect([name, stored.get(name)]).toEqual([name, secret]);
    }
    expect(acknowledged.size).toBeGreaterThan(100);
    // And a restarted service serves them all.
    const restarted = await ws.startAdmin(file);
    try {
      const names = (await ws.call(restarted, 'GET', '/v1/keys', 'admin')).json.keys.map((k: { name: string }) => k.name);
      expect(names).toEqual(expect.arrayContaining([...acknowledged.keys()]));
    } finally {
      await stopProcess(restarted);
    }
  }, 180_000);

  it('rate-limits repeated authentication failures from one address with 429, but never a good token', async () => {
    const limited = await ws.startAdmin(
      ws.writeConfig('limited.yaml', config(ws, id, { maxAuthFailures: 3 }).replace('data/keystore.json', 'data/limited.json')),
    );
    try {
      for (let i = 0; i < 3; i++) expect((await ws.call(limited, 'GET', '/v1/keys', 'guess-guess-guess-guess-guess-guess')).status).toBe(401);
      const blocked = await ws.call(limited, 'GET', '/v1/keys', 'guess-guess-guess-guess-guess-guess');
      expect([blocked.status, blocked.json.error]).toEqual([429, 'rate-limited']);
      expect((await ws.call(limited, 'GET', '/v1/keys', 'admin')).status).toBe(200);
    } finally {
      await stopProcess(limited);
    }
  }, 90_000);

  it('rotates the master key: accept the old one as previous, re-wrap, then drop it; every key intact', async () => {
    const store = 'data/mk-keystore.json';
    const withKeys = (keys: string) => config(ws, id).replace('data/keystore.json', store).replace('masterKey: { file: secrets/kek }', keys);
    const oldOnly = await ws.startAdmin(ws.writeConfig('mk1.yaml', withKeys('masterKey: { file: secrets/kek }')));
    let before;
    try {
      expect((await ws.call(oldOnly, 'POST', '/v1/keys', 'admin', { name: 'mk', type: 'symmetric', exportable: true })).status).toBe(201);
      before = (await ws.call(oldOnly, 'POST', '/v1/keys/mk/export', 'admin', {})).json;
    } finally {
      await stopProcess(oldOnly);
    }
    writeFileSync(`${ws.secrets}/kek2`, Buffer.from(sodium.randombytes_buf(32)).toString('base64'));
    const both = await ws.startAdmin(ws.writeConfig('mk2.yaml', withKeys('masterKey: { file: secrets/kek2 }\n  previousMasterKeys: [{ file: secrets/kek }]')));
    let newId: string;
    try {
      const status = (await ws.call(both, 'GET', '/v1/master-key', 'reader')).json;
      newId = status.current;
      expect(status.keysByMasterKey).toEqual({ [newId]: 0, [status.previous[0]]: 1 });
      expect((await ws.call(both, 'POST', '/v1/master-key/rewrap', 'admin')).json).toEqual({ rewrapped: ['mk'], current: newId });
      expect((await ws.call(both, 'GET', '/v1/master-key', 'reader')).json.keysByMasterKey[newId]).toBe(1);
    } finally {
      await stopProcess(both);
    }
    const newOnly = await ws.startAdmin(ws.writeConfig('mk3.yaml', withKeys('masterKey: { file: secrets/kek2 }')));
    try {
      expect((await ws.call(newOnly, 'POST', '/v1/keys/mk/export', 'admin', {})).json).toEqual(before);
      expect(JSON.parse(readFileSync(`${ws.dir}/${store}`, 'utf8')).masterKeyId).toBe(newId);
    } finally {
      await stopProcess(newOnly);
    }
  }, 120_000);
});
