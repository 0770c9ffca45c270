import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { ConfigError } from '@app/config';
import { formatKeyFile, generateKeyEntry, SodiumProvider } from '@app/crypto';
import { loadBridgeConfig } from '@app/bridge-config';
import { loadComposeFile, loadImageSpec, requiredVariables } from '../../../test/compose/compose.file';
import { ContainerView } from '../../../test/compose/container.view';
import { launchOf, projectServices, ServiceLaunch } from '../../../test/compose/service.launch';

/*
 * Every configuration in config/ loaded as the process that uses it would load it: each
 * docker-compose.yml service running the project's image, with only the environment and the
 * secret files that service is given, through the validation its program runs (worker or
 * admin). The file system is the container's: the directories the image copied, the secrets
 * at /run/secrets, and nothing of this machine's.
 */

const ROOT = resolve(__dirname, '../../..');
const CONFIG_DIR = join(ROOT, 'config');

/** The container file system the loader sees while `view` is set (undefined: the host's). */
const mockFs: { view?: ContainerView } = {};
jest.mock('node:fs', () =>
  (jest.requireActual('../../../test/compose/container.fs') as typeof import('../../../test/compose/container.fs')).containerFs(
    jest.requireActual('node:fs'),
    () => mockFs.view,
  ),
);

/** What the documentation tells a user to put in each variable or secret file it names. */
function userSecret(name: string): string {
  const key = name.toLowerCase();
  if (key.includes('master_key') || key.includes('master-key')) return randomBytes(32).toString('base64'); // openssl rand -base64 32
  if (key.includes('token')) return randomBytes(32).toString('hex'); // openssl rand -hex 32
  throw new Error(`this test does not know what a user puts in ${name}: add it to userSecret()`);
}

/** Configurations in config/ that no compose service runs, and who runs them with what. */
const OTHER_USES: Record<string, { by: string; role: 'worker'; env: Record<string, string> }> = {
  'bridge.demo.yaml': { by: 'npm run demo', role: 'worker', env: { MQTT_URL: 'mqtt://127.0.0.1:1883', MQTT_PROTOCOL: '5', KAFKA_BROKERS: '127.0.0.1:9092' } },
  'transforms.example.yaml': { by: 'npm run bridge -- test (its cases file)', role: 'worker', env: {} },
  'schemas.example.yaml': { by: 'npm run bridge -- test (its cases file, against a registry)', role: 'worker', env: {} },
};

const composeText = fs.readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
// The shell a user runs compose from: the variables compose insists on, made as documented.
const userEnv = Object.fromEntries([...requiredVariables(composeText).keys()].map((name) => [name, userSecret(name)]));
const compose = loadComposeFile(join(ROOT, 'docker-compose.yml'), userEnv);
const image = loadImageSpec(join(ROOT, 'Dockerfile'));
const launches: ServiceLaunch[] = [
  ...projectServices(compose).map((service) => launchOf(service, image)),
  // `docker run <image>` with nothing else: the image's own default command.
  launchOf({ name: 'the image default (docker run)', environment: {}, secrets: [] }, image),
];

async function problemsOf(launch: ServiceLaunch): Promise<string[]> {
  const secretsDir = fs.mkdtempSync(join(tmpdir(), `compose-${launch.service.replace(/\W+/g, '-')}-`));
  const mounts: Array<[string, string]> = image.copies.map(([container, context]) => [container, join(ROOT, context)]);
  for (const name of launch.secrets) {
    const source = compose.secrets[name];
    if (!source) return [`secret ${name} is not defined in the top-level secrets of docker-compose.yml`];
    fs.writeFileSync(join(secretsDir, name), `${userSecret(name)}\n`);
    mounts.push([posix.join('/run/secrets', name), join(secretsDir, name)]);
  }
  mockFs.view = new ContainerView(mounts);
  try {
    await loadBridgeConfig(launch.configFile, launch.env, launch.role);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);
  } finally {
    mockFs.view = undefined;
    fs.rmSync(secretsDir, { recursive: true, force: true });
  }
}

describe('configurations as the compose services load them', () => {
  beforeAll(async () => {
    // npm run demo writes a fresh key file with these two keys and names it in DEMO_KEYS_FILE.
    const sodium = await new SodiumProvider().ready();
    const keys = join(fs.mkdtempSync(join(tmpdir(), 'compose-demo-keys-')), 'keys.json');
    fs.writeFileSync(keys, formatKeyFile([generateKeyEntry(sodium, 'devices', 'symmetric'), generateKeyEntry(sodium, 'consumers', 'symmetric')]));
    OTHER_USES['bridge.demo.yaml'].env.DEMO_KEYS_FILE = keys;
  });

  it('finds the services that run the project image: two workers and the admin service', () => {
    expect(launches.filter((l) => l.role === 'worker').length).toBeGreaterThanOrEqual(3);
    expect(launches.filter((l) => l.role === 'admin').map((l) => l.service)).toEqual(['admin']);
  });

  it.each(launches.map((l) => [l.service, l] as const))('%s starts with its configuration', async (_name, launch) => {
    const problems = await problemsOf(launch);
    // The service's name leads the message, so a failure says which service could not start.
    expect({ service: launch.service, role: launch.role, file: launch.configFile, problems }).toEqual({
      service: launch.service,
      role: launch.role,
      file: launch.configFile,
      problems: [],
    });
  });

  it.each(Object.entries(OTHER_USES).map(([file, use]) => [file, use.by, use] as const))('%s loads as %s runs it', async (file, _by, use) => {
    const loaded = await loadBridgeConfig(join(CONFIG_DIR, file), use.env, use.role);
    expect(loaded.rules.length).toBeGreaterThan(0);
  });

  it('every file in config/ is run by a service, the image default or a listed other use', () => {
    const used = new Set([...launches.map((l) => l.configFile), ...Object.keys(OTHER_USES).map((f) => posix.join(image.workdir, 'config', f))]);
    // Case files for `bridge test` are not configurations.
    const files = fs.readdirSync(CONFIG_DIR).filter((f) => /\.ya?ml$/.test(f) && !f.endsWith('.cases.yaml'));
    expect(files.filter((f) => !used.has(posix.join(image.workdir, 'config', f)))).toEqual([]);
  });

  it('a worker is not given the admin token: the admin section must not need it', () => {
    for (const launch of launches.filter((l) => l.role === 'worker')) {
      expect({ service: launch.service, secrets: launch.secrets.filter((s) => s.includes('admin')) }).toEqual({ service: launch.service, secrets: [] });
    }
  });
});
