import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { loadBridgeConfig } from './bridge-config.loader';
import { ConfigRole } from './key-config.checks';

const dir = mkdtempSync(join(tmpdir(), 'key-config-spec-'));
const file = join(dir, 'bridge.yaml');
const masterKey = Buffer.alloc(32, 7).toString('base64');
const token = 'a'.repeat(40);

// One file for both roles, as in docker-compose.yml: the admin section points at secrets only
// the admin service is given.
writeFileSync(
  file,
  `
mqtt: { url: "mqtt://127.0.0.1:1883" }
kafka: { brokers: ["127.0.0.1:9092"] }
keys:
  store: { type: kafka, topic: bridge.keys }
  masterKey: { env: MASTER_KEY }
admin:
  tls: { cert: tls/admin.crt, key: tls/admin.key }
  tokens:
    - { id: ops, role: admin, env: ADMIN_TOKEN }
    - { id: ci, role: reader, file: secrets/ci-token }
  audit: { file: audit.log }
rules:
  - name: r
    filters: ["s/#"]
    destinations: [{ type: kafka, topic: t }]
`,
);

async function problems(role: ConfigRole, env: Record<string, string>): Promise<string[]> {
  try {
    await loadBridgeConfig(file, env, role);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('checkSecrets by role', () => {
  it('a worker neither reads nor requires the admin tokens or TLS files', async () => {
    expect(await problems('worker', { MASTER_KEY: masterKey })).toEqual([]);
    const loaded = await loadBridgeConfig(file, { MASTER_KEY: masterKey, ADMIN_TOKEN: token }, 'worker');
    expect(loaded.secrets.masterKey).toBe(masterKey);
    expect(loaded.secrets.adminTokens).toBeUndefined();
  });

  it('a worker still requires the master key it unwraps keys with', async () => {
    expect(await problems('worker', {})).toEqual(['keys.masterKey.env: environment variable MASTER_KEY is not set']);
  });

  it('the admin service reports every admin secret it cannot read', async () => {
    expect(await problems('admin', { MASTER_KEY: masterKey })).toEqual([
      `admin.tls.cert: cannot read file ${join(dir, 'tls/admin.crt')}`,
      `admin.tls.key: cannot read file ${join(dir, 'tls/admin.key')}`,
      'admin.tokens[0].env: environment variable ADMIN_TOKEN is not set',
      `admin.tokens[1].file: cannot read the token file ${join(dir, 'secrets/ci-token')}`,
    ]);
  });

  it('the admin service gets the tokens hashed once its secrets are there', async () => {
    const withoutTls = join(dir, 'no-tls.yaml');
    writeFileSync(withoutTls, readFileSync(file, 'utf8').replace(/  tls: .*\n/, '  insecureHttp: true\n'));
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets/ci-token'), `${'b'.repeat(40)}\n`);
    const loaded = await loadBridgeConfig(withoutTls, { MASTER_KEY: masterKey, ADMIN_TOKEN: token }, 'admin');
    expect(loaded.secrets.adminTokens?.map((t) => [t.id, t.role, t.sha256.length])).toEqual([
      ['ops', 'admin', 32],
      ['ci', 'reader', 32],
    ]);
  });

  it('the admin service refuses a token file others can read when admin.tokenFilePermissions is refuse', async () => {
    const strict = join(dir, 'strict.yaml');
    writeFileSync(strict, readFileSync(file, 'utf8').replace(/  tls: .*\n/, '  insecureHttp: true\n  tokenFilePermissions: refuse\n'));
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets/ci-token'), `${'b'.repeat(40)}\n`, { mode: 0o644 });
    chmodSync(join(dir, 'secrets/ci-token'), 0o644);
    const refused = await loadBridgeConfig(strict, { MASTER_KEY: masterKey, ADMIN_TOKEN: token }, 'admin').then(
      () => [],
      (error: ConfigError) => error.problems.map((p) => `${p.path}: ${p.message}`),
    );
    expect(refused).toEqual([
      expect.stringMatching(/^admin\.tokens\[1\]\.file: token file .*secrets\/ci-token is readable or writable by its group and others \(mode 0644\)/),
    ]);
    chmodSync(join(dir, 'secrets/ci-token'), 0o600);
    await expect(loadBridgeConfig(strict, { MASTER_KEY: masterKey, ADMIN_TOKEN: token }, 'admin')).resolves.toBeDefined();
  });
});

describe('the control key', () => {
  const base = `
mqtt: { url: "mqtt://127.0.0.1:1883" }
kafka: { brokers: ["127.0.0.1:9092"] }
rules:
  - name: r
    filters: ["s/#"]
    destinations: [{ type: kafka, topic: t }]
`;
  const load = (extra: string, env: Record<string, string> = {}) => {
    const f = join(dir, `control-${Math.random().toString(16).slice(2)}.yaml`);
    writeFileSync(f, base + extra);
    return loadBridgeConfig(f, env, 'worker').then(
      (loaded) => ({ controlKey: loaded.secrets.controlKey }),
      (error: ConfigError) => ({ problems: error.problems.map((p) => `${p.path}: ${p.message}`) }),
    );
  };

  it('is required with control events: control.secret, or the master key of a wrapped keystore', async () => {
    expect(await load('control: { url: "nats://127.0.0.1:4222" }\n')).toEqual({
      problems: [
        'control: control events are signed: set control.secret (base64 of 32 bytes from a file or a variable, as keys.masterKey) or keys.store with keys.masterKey',
      ],
    });
    expect(await load('control: { url: "nats://127.0.0.1:4222", secret: { env: CONTROL_KEY } }\n', { CONTROL_KEY: masterKey })).toEqual({
      controlKey: masterKey,
    });
    const other = Buffer.alloc(32, 9).toString('base64');
    expect(
      await load('keys: { store: { type: kafka, topic: k }, masterKey: { env: MASTER_KEY } }\ncontrol: { url: "nats://127.0.0.1:4222" }\n', {
        MASTER_KEY: other,
      }),
    ).toEqual({ controlKey: other });
  });
});
