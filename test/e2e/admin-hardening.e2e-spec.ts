import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { AdminProcess } from './support/bridge.process';
import { AdminWorkspace, stopProcess } from './support/admin.fixture';

/*
 * Issue 15 against the real admin service (file keystore): the rollback attack of someone who
 * can write the keystore file but lacks the master key, and the API findings of the probe.
 */
const CONFIG = (ws: AdminWorkspace, extra = '') => `
mqtt: { url: "mqtt://127.0.0.1:1" }
kafka: { brokers: ["127.0.0.1:1"] }
${ws.sections({ maxAuthFailures: 3 }).replace('admin:\n', `admin:\n${extra}`)}
rules:
  - name: passthrough
    filters: ["hardening/+"]
    destinations: [{ type: kafka, topic: "hardening.out" }]
`;

describe('admin service: no rollback, API hardening (issue 15)', () => {
  const ws = new AdminWorkspace();
  let admin: AdminProcess;

  beforeAll(async () => {
    admin = await ws.startAdmin(ws.writeConfig('bridge.yaml', CONFIG(ws, '  trustedProxies: ["127.0.0.1"]\n')));
  }, 90_000);
  afterAll(async () => {
    await stopProcess(admin);
    ws.dispose();
  });

  it('refuses an old entry put back after revoke + min-version, notices a deleted entry, and refuses a whole older file, also after a restart', async () => {
    expect((await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'rb', type: 'symmetric', exportable: true })).status).toBe(201);
    expect((await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'keep', type: 'symmetric' })).status).toBe(201);
    expect((await ws.call(admin, 'POST', '/v1/keys/rb/rotate', 'admin', {})).status).toBe(200);
    const copy = `${ws.keystoreFile}.copy`;
    copyFileSync(ws.keystoreFile, copy);
    expect((await ws.call(admin, 'POST', '/v1/keys/rb/versions/1/revoke', 'admin')).status).toBe(200);
    expect((await ws.call(admin, 'PUT', '/v1/keys/rb/min-decryption-version', 'admin', { version: 2 })).status).toBe(200);

    // The old entry, still carrying its valid MAC, put back into the current file.
    const old = JSON.parse(readFileSync(copy, 'utf8'));
    const now = JSON.parse(readFileSync(ws.keystoreFile, 'utf8'));
    writeFileSync(
      ws.keystoreFile,
      JSON.stringify({ ...now, keys: now.keys.map((k: { name: string }) => (k.name === 'rb' ? old.keys.find((o: { name: string }) => o.name === 'rb') : k)) }),
    );
    const rolledBack = await ws.call(admin, 'GET', '/v1/keys/rb', 'admin');
    expect([rolledBack.status, rolledBack.json.error]).toEqual([409, 'integrity-failed']);
    expect(rolledBack.json.message).toMatch(/revision 2 is not the one the manifest lists \(revision 4/);
    expect((await ws.call(admin, 'POST', '/v1/keys/rb/export', 'admin', {})).status).toBe(409);
    expect((await ws.call(admin, 'GET', '/v1/keys/keep', 'admin')).status).toBe(200); // the other key keeps working
    expect((await ws.call(admin, 'GET', '/v1/keys', 'admin')).json.keys.map((k: { name: string }) => k.name)).toEqual(['keep']);

    // An entry deleted outside the service.
    writeFileSync(ws.keystoreFile, JSON.stringify({ ...now, keys: now.keys.filter((k: { name: string }) => k.name !== 'keep') }));
    const deleted = await ws.call(admin, 'GET', '/v1/keys/keep', 'admin');
    expect([deleted.status, deleted.json.message]).toEqual([409, expect.stringMatching(/but missing: deleted outside the admin service/)]);
    const audit = readFileSync(ws.auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action === 'integrity-check').map((e) => [e.key, e.code])).toEqual([
      ['rb', 'integrity-failed'],
      ['keep', 'integrity-failed'],
    ]);

    // The whole older file: this process saw generation 5, and so does a restarted one.
    copyFileSync(copy, ws.keystoreFile);
    const whole = await ws.call(admin, 'GET', '/v1/keys', 'admin');
    expect([whole.status, whole.json.error, whole.json.message]).toEqual([
      409,
      'keystore-rollback',
      expect.stringMatching(/generation 3, older than generation 5/),
    ]);
    await stopProcess(admin);
    admin = await ws.startAdmin(ws.writeConfig('bridge.yaml', CONFIG(ws, '  trustedProxies: ["127.0.0.1"]\n')));
    expect((await ws.call(admin, 'GET', '/v1/keys', 'admin')).json.error).toBe('keystore-rollback');
    writeFileSync(ws.keystoreFile, JSON.stringify(now)); // the operator restores the current copy
    expect((await ws.call(admin, 'GET', '/v1/keys/rb', 'admin')).json).toMatchObject({ revision: 4, minDecryptionVersion: 2 });
  }, 120_000);

  it('refuses dot names, any body on bodyless routes, and retired versions on export; no-store, no X-Powered-By', async () => {
    for (const name of ['.', '..', '.hidden']) {
      const r = await ws.call(admin, 'POST', '/v1/keys', 'admin', { name, type: 'symmetric' });
      expect([name, r.status, r.json.problems]).toEqual([name, 400, [{ field: 'name', message: expect.stringMatching(/not starting with a dot/) }]]);
    }
    // fetch would normalise the dot segment away, as the CLI did: send the raw path.
    const dots = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(admin.url());
      const req = request({ hostname, port, path: '/v1/keys/..', headers: { authorization: `Bearer ${ws.adminToken}` } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject).end();
    });
    expect([dots.status, dots.body]).toEqual([400, expect.stringContaining(`"field":"name"`)]);

    expect((await ws.call(admin, 'POST', '/v1/keys', 'admin', { name: 'ex', type: 'symmetric', exportable: true })).status).toBe(201);
    expect((await ws.call(admin, 'POST', '/v1/keys/ex/rotate', 'admin', {})).status).toBe(200);
    const dry = await ws.call(admin, 'POST', '/v1/keys/ex/versions/1/revoke', 'admin', { dryRun: true });
    expect([dry.status, dry.json.problems]).toEqual([400, [{ field: '', message: 'unknown field(s): dryRun' }]]);
    expect((await ws.call(admin, 'GET', '/v1/keys/ex', 'admin')).json.versions[0].state).toBe('active'); // nothing happened
    expect((await ws.call(admin, 'DELETE', '/v1/keys/ex', 'admin', { force: true })).status).toBe(400);
    expect((await ws.call(admin, 'POST', '/v1/reload', 'admin', { x: 1 })).status).toBe(400);

    expect((await ws.call(admin, 'POST', '/v1/keys/ex/versions/1/revoke', 'admin')).status).toBe(200);
    const retired = await ws.call(admin, 'POST', '/v1/keys/ex/export', 'admin', { version: 1 });
    expect([retired.status, retired.json.error]).toEqual([409, 'version-retired']);
    expect((await ws.call(admin, 'POST', '/v1/keys/ex/export', 'admin', {})).json.versions.map((v: { version: number }) => v.version)).toEqual([2]);
    const asked = await ws.call(admin, 'POST', '/v1/keys/ex/export', 'admin', { version: 1, allowRetired: true });
    expect(asked.json.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    const audit = readFileSync(ws.auditFile, 'utf8');
    expect(audit).toMatch(/"action":"export","key":"ex","version":1,"result":"failed","status":409,"code":"version-retired"/);
    expect(audit).toMatch(/"action":"export-retired","key":"ex","version":1,"result":"ok"/);

    const raw = await fetch(`${admin.url()}/v1/keys/ex/export`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect([raw.status, raw.headers.get('cache-control'), raw.headers.get('x-powered-by')]).toEqual([200, 'no-store', null]);
    const refused = await fetch(`${admin.url()}/v1/keys`);
    expect([refused.status, refused.headers.get('cache-control'), refused.headers.get('x-powered-by')]).toEqual([401, 'no-store', null]);
  }, 60_000);

  it('limits failing clients named by X-Forwarded-For through a trusted proxy, and never a valid token', async () => {
    const call = (client: string, token: string) =>
      fetch(`${admin.url()}/v1/keys`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client } }).then((r) => r.status);
    const guess = 'guess-guess-guess-guess-guess-guess';
    for (let i = 0; i < 3; i++) expect(await call('203.0.113.7', guess)).toBe(401);
    expect(await call('203.0.113.7', guess)).toBe(429);
    expect(await call('198.51.100.9', guess)).toBe(401); // another client behind the same proxy
    expect(await call('203.0.113.7', ws.adminToken)).toBe(200); // an admin at the blocked address
    const lines = readFileSync(ws.auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.filter((e) => e.status === 429).map((e) => e.remote)).toEqual(['203.0.113.7']);
  }, 60_000);
});
