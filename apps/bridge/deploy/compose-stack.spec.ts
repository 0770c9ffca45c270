import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { CLOSE_MARGIN_MS, drainBoundMs } from '../src/drain.bound';
import { ComposeService, loadComposeFile, loadImageSpec } from '../../../test/compose/compose.file';
import { launchOf, projectServices } from '../../../test/compose/service.launch';

/* What a compose user relies on beyond the configuration: start order, health, data, exposure. */

const ROOT = resolve(__dirname, '../../..');
const compose = loadComposeFile(join(ROOT, 'docker-compose.yml'), {});
const image = loadImageSpec(join(ROOT, 'Dockerfile'));
const service = (name: string): ComposeService => {
  const found = compose.services.find((s) => s.name === name);
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const core = compose.services.filter((s) => !s.profiles?.length);
const ours = projectServices(compose);

function seconds(duration: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration ?? '');
  if (!match) return 10; // Docker's default stop timeout
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

describe('docker-compose.yml', () => {
  it('builds one named image, once, that the other services run', () => {
    const builders = ours.filter((s) => s.build !== undefined);
    expect(builders.map((s) => s.name)).toEqual(['bridge-1']);
    expect(new Set(ours.map((s) => s.image))).toEqual(new Set([builders[0].image]));
    expect(ours.map((s) => s.name).sort()).toEqual(['admin', 'bridge-1', 'bridge-2']);
  });

  it('checks the health of every core service, and starts nothing before what it needs is healthy', () => {
    for (const s of core) expect({ service: s.name, healthcheck: Array.isArray(s.healthcheck?.test) }).toEqual({ service: s.name, healthcheck: true });
    for (const s of ours) {
      expect({ service: s.name, dependsOn: s.depends_on }).toMatchObject({
        service: s.name,
        dependsOn: { kafka: { condition: 'service_healthy' }, mosquitto: { condition: 'service_healthy' } },
      });
    }
  });

  it('probes the workers and the admin service on what they serve', () => {
    const bridgeConfig = parse(readFileSync(join(ROOT, 'config/bridge.compose.yaml'), 'utf8')) as { http: { port: number }; admin: { port: number } };
    for (const s of ours) {
      const role = launchOf(s, image).role;
      const probe = s.healthcheck!.test!.join(' ');
      expect(probe).toContain(role === 'worker' ? `127.0.0.1:${bridgeConfig.http.port}/health/ready` : `127.0.0.1:${bridgeConfig.admin.port}/docs-json`);
    }
  });

  it('gives workers a grace period above their drain bound and close margin', () => {
    for (const s of ours.filter((x) => launchOf(x, image).role === 'worker')) {
      const bound = (drainBoundMs(s.environment) + CLOSE_MARGIN_MS) / 1000;
      expect({ service: s.name, grace: seconds(s.stop_grace_period) > bound }).toEqual({ service: s.name, grace: true });
    }
  });

  it('keeps Kafka data on its volume and lets the host reach Kafka', () => {
    const kafka = service('kafka');
    const dataDir = kafka.environment.KAFKA_LOG_DIRS;
    expect(kafka.volumes).toContainEqual(`kafka-data:${dataDir}`);
    expect(kafka.environment.KAFKA_ADVERTISED_LISTENERS).toMatch(/\/\/localhost:29092\b/);
    expect(kafka.ports).toContain('127.0.0.1:29092:29092');
  });

  it('publishes ports on 127.0.0.1 only (anonymous Mosquitto, Kafka without authentication, plain-HTTP admin)', () => {
    for (const s of compose.services) for (const port of s.ports) expect(`${s.name} ${port}`).toMatch(new RegExp(`^${s.name} 127\\.0\\.0\\.1:`));
  });

  it('gives secrets as files, never as variables', () => {
    for (const s of ours) expect(Object.keys(s.environment).filter((k) => /KEY|TOKEN|PASSWORD|SECRET/.test(k))).toEqual([]);
    expect(Object.values(compose.secrets).every((s) => typeof s.file === 'string')).toBe(true);
  });

  it('mounts the admin audit volume where the image has a directory owned by node', () => {
    const admin = service('admin');
    const mount = admin.volumes.map((v) => v.split(':')).find(([source]) => source === 'admin-audit');
    expect(mount).toBeDefined();
    expect(image.owned.get(mount![1])).toBe('node:node');
    expect(readFileSync(join(ROOT, 'config/bridge.compose.yaml'), 'utf8')).toContain(`file: ${mount![1]}/audit.log`);
  });
});

describe('ignore files', () => {
  it.each(['.gitignore', '.dockerignore'])('%s keeps .env and the secrets directory out', (file) => {
    const lines = readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(lines).toContain('.env');
    expect(lines.some((l) => l === 'secrets' || l === 'secrets/')).toBe(true);
  });
});
