import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminProcess, spawnAdmin } from './bridge.process';
import { waitFor } from './bridge.fixture';

/** One call to the admin API and what came back, kept so tests can search every response. */
export interface ApiExchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly text: string;
  readonly json: any;
  /** Date.now() when the response had arrived. */
  readonly at: number;
}

/**
 * A directory laid out as an operator would: secrets (master key, tokens) in one folder, the
 * keystore and audit log in another, the configuration beside them.
 */
export class AdminWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'bridge-admin-e2e-'));
  readonly secrets = join(this.dir, 'secrets');
  readonly data = join(this.dir, 'data');
  readonly masterKey = randomBytes(32).toString('base64');
  readonly adminToken = randomBytes(32).toString('hex');
  readonly readerToken = randomBytes(32).toString('hex');
  readonly exchanges: ApiExchange[] = [];

  constructor() {
    mkdirSync(this.secrets);
    mkdirSync(this.data);
    writeFileSync(join(this.secrets, 'kek'), `${this.masterKey}\n`, { mode: 0o600 });
    writeFileSync(join(this.secrets, 'admin.token'), this.adminToken, { mode: 0o600 });
    writeFileSync(join(this.secrets, 'reader.token'), this.readerToken, { mode: 0o600 });
  }

  get keystoreFile(): string {
    return join(this.data, 'keystore.json');
  }

  get auditFile(): string {
    return join(this.data, 'audit.log');
  }

  /** The keys and admin sections for a configuration in this workspace. */
  sections(options: { maxAuthFailures?: number; reloadIntervalMs?: number } = {}): string {
    return `
keys:
  store: { type: file, path: data/keystore.json }
  masterKey: { file: secrets/kek }
  reloadIntervalMs: ${options.reloadIntervalMs ?? 1000}
admin:
  port: 0
  maxBodyBytes: 4096
  maxAuthFailures: ${options.maxAuthFailures ?? 10000}
  authFailureWindowMs: 60000
  tokens:
    - { id: ops, role: admin, file: secrets/admin.token }
    - { id: viewer, role: reader, file: secrets/reader.token }
  audit: { file: data/audit.log }
`;
  }

  writeConfig(name: string, yaml: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, yaml);
    return file;
  }

  async startAdmin(configFile: string): Promise<AdminProcess> {
    const admin = spawnAdmin([configFile]);
    await Promise.race([
      waitFor(() => admin.started(), 60_000, 'the admin service to listen'),
      admin.exited.then((code) => {
        throw new Error(`admin exited with ${code}:\n${admin.output()}`);
      }),
    ]);
    return admin;
  }

  /** Calls the API; `token` 'admin', 'reader', a literal token, or undefined for none. */
  async call(admin: AdminProcess, method: string, path: string, token?: string, body?: unknown): Promise<ApiExchange> {
    const bearer = token === 'admin' ? this.adminToken : token === 'reader' ? this.readerToken : token;
    const response = await fetch(`${admin.url()}${path}`, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const exchange = { method, path, status: response.status, text, json, at: Date.now() };
    this.exchanges.push(exchange);
    return exchange;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function stopProcess(
  p: { child: { kill(signal?: NodeJS.Signals): boolean; exitCode: number | null }; exited: Promise<unknown> } | undefined,
): Promise<void> {
  if (!p || p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(timer);
}
