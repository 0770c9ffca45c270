import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigError } from '@app/config';
import { ConfigRole, loadBridgeConfig } from '@app/bridge-config';
import { CLOSE_MARGIN_MS, drainBoundMs } from '../src/drain.bound';
import { ContainerView } from '../../../test/compose/container.view';

/*
 * deploy/kubernetes agrees with the code: every resource parses, the configuration in the
 * ConfigMap loads in each pod as that pod sees it (its mounts, its environment), and ports,
 * probe paths and grace periods are the ones the programs serve and need.
 */

const ROOT = resolve(__dirname, '../../..');
const DIR = join(ROOT, 'deploy/kubernetes');

const mockFs: { view?: ContainerView } = {};
jest.mock('node:fs', () =>
  (jest.requireActual('../../../test/compose/container.fs') as typeof import('../../../test/compose/container.fs')).containerFs(
    jest.requireActual('node:fs'),
    () => mockFs.view,
  ),
);

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string }; emptyDir?: object }>;
}
interface Resource {
  kind: string;
  metadata: { name: string };
  spec: { template?: { metadata: { annotations?: Record<string, string> }; spec: PodSpec }; [k: string]: unknown };
}

const kustomization = parse(fs.readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as {
  resources: string[];
  configMapGenerator: Array<{ name: string; files: string[] }>;
};
const resources: Resource[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(fs.readFileSync(join(DIR, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as Resource;
  }),
);
const byKind = (kind: string, name: string): Resource => {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  if (!found) throw new Error(`deploy/kubernetes has no ${kind} ${name}`);
  return found;
};
const workers = byKind('StatefulSet', 'bridge');
const admin = byKind('Deployment', 'bridge-admin');
const pod = (r: Resource) => r.spec.template!.spec;
const container = (r: Resource) => pod(r).containers[0];
const configMaps = new Map(kustomization.configMapGenerator.map((g) => [g.name, g.files]));

/** The configuration file a pod's program reads, and the role it loads it in. */
function launch(r: Resource): { role: ConfigRole; file: string } {
  const c = container(r);
  const role: ConfigRole = c.command?.includes('dist/apps/admin/src/main.js') ? 'admin' : 'worker';
  const args = c.args ?? [];
  return { role, file: args[args.length - 1] };
}

/** The environment the kubelet gives the container, a pod name standing for metadata.name. */
function envOf(r: Resource, podName: string): Record<string, string> {
  return Object.fromEntries((container(r).env ?? []).map((e) => [e.name, e.value ?? (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name' ? podName : '')]));
}

/** The pod's file system: ConfigMaps from the kustomize files, Secrets as files a user created. */
function viewOf(r: Resource, secretsDir: string): ContainerView {
  const volumes = new Map((pod(r).volumes ?? []).map((v) => [v.name, v]));
  const mounts: Array<[string, string]> = [];
  for (const m of container(r).volumeMounts ?? []) {
    const volume = volumes.get(m.name);
    if (volume?.configMap) {
      for (const file of configMaps.get(volume.configMap.name) ?? []) mounts.push([posix.join(m.mountPath, file), join(DIR, file)]);
    } else if (volume?.secret) {
      const dir = join(secretsDir, volume.secret.secretName);
      fs.mkdirSync(dir, { recursive: true });
      mounts.push([m.mountPath, dir]);
    }
  }
  return new ContainerView(mounts);
}

/** Secret keys as docs/deployment.md has users create them. */
const SECRETS: Record<string, Record<string, () => string>> = {
  'bridge-master-key': { 'master-key': () => randomBytes(32).toString('base64') },
  'bridge-admin-tokens': { ops: () => randomBytes(32).toString('hex') },
};

describe('deploy/kubernetes', () => {
  it('lists every manifest of the directory in the kustomization, and every one parses', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources, ...kustomization.configMapGenerator.flatMap((g) => g.files)].sort()).toEqual(files.sort());
    expect(resources.map((r) => r.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service', 'Service', 'StatefulSet']);
  });

  it.each([
    ['workers', workers, 'bridge-0'],
    ['admin', admin, 'bridge-admin-5d9c7-x2x4q'],
  ] as const)('the ConfigMap configuration loads in the %s pod as it sees it', async (_name, r, podName) => {
    const secretsDir = fs.mkdtempSync(join(tmpdir(), 'k8s-secrets-'));
    try {
      for (const [secret, keys] of Object.entries(SECRETS)) {
        fs.mkdirSync(join(secretsDir, secret));
        for (const [key, make] of Object.entries(keys)) fs.writeFileSync(join(secretsDir, secret, key), make());
      }
      const { role, file } = launch(r);
      mockFs.view = viewOf(r, secretsDir);
      let problems: string[] = [];
      try {
        const loaded = await loadBridgeConfig(file, envOf(r, podName), role);
        if (role === 'worker') expect(loaded.config.mqtt.clientId).toBe(podName);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems = error.problems.map((p) => `${p.path}: ${p.message}`);
      } finally {
        mockFs.view = undefined;
      }
      expect(problems).toEqual([]);
    } finally {
      fs.rmSync(secretsDir, { recursive: true, force: true });
    }
  });

  it('workers mount no admin token: their load must not need one', () => {
    const secrets = (pod(workers).volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName] : []));
    expect(secrets).toEqual(['bridge-master-key']);
  });

  it('ports, probes and scrape annotations are the ones the programs serve', () => {
    const config = parse(fs.readFileSync(join(DIR, 'bridge.yaml'), 'utf8')) as { http: { port: number }; admin: { port: number } };
    const health = fs.readFileSync(join(ROOT, 'apps/bridge/src/health.controller.ts'), 'utf8');
    const routes = [...health.matchAll(/@Get\('(\w+)'\)/g)].map((m) => `/${/@Controller\('(\w+)'\)/.exec(health)![1]}/${m[1]}`);
    const w = container(workers);
    expect(w.ports).toEqual([{ name: 'http', containerPort: config.http.port }]);
    expect(routes).toEqual(expect.arrayContaining([w.readinessProbe!.httpGet!.path, w.livenessProbe!.httpGet!.path]));
    expect([w.readinessProbe!.httpGet!.path, w.livenessProbe!.httpGet!.path]).toEqual(['/health/ready', '/health/live']);
    expect(workers.spec.template!.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.http.port),
      'prometheus.io/path': '/metrics',
    });
    const a = container(admin);
    expect(a.ports).toEqual([{ name: 'http', containerPort: config.admin.port }]);
    expect(fs.readFileSync(join(ROOT, 'apps/admin/src/openapi.ts'), 'utf8')).toContain("SwaggerModule.setup('docs'");
    expect(a.readinessProbe!.httpGet!.path).toBe('/docs-json');
  });

  it('gives workers a grace period above the drain bound, stable names, a disruption budget and resources', () => {
    const bound = (drainBoundMs(envOf(workers, 'bridge-0')) + CLOSE_MARGIN_MS) / 1000;
    expect(pod(workers).terminationGracePeriodSeconds).toBeGreaterThan(bound);
    expect(container(workers).env).toContainEqual({ name: 'BRIDGE_CLIENT_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    const pdb = byKind('PodDisruptionBudget', 'bridge');
    expect(pdb.spec.selector).toEqual((workers.spec as { selector: unknown }).selector);
    for (const r of [workers, admin]) {
      expect(Object.keys(container(r).resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(container(r).resources?.limits?.memory).toBeDefined();
    }
  });

  it('mounts the configuration as a directory, which is what lets a ConfigMap update reach the pod', () => {
    for (const r of [workers, admin]) {
      const mount = container(r).volumeMounts!.find((m) => m.name === 'config')!;
      expect(mount.subPath).toBeUndefined();
      expect(launch(r).file.startsWith(`${mount.mountPath}/`)).toBe(true);
    }
  });
});
