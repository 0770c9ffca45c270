import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');

/** npm packages a fresh Node process has loaded after requiring `module`. */
function packagesLoadedBy(module: string): string[] {
  const script = `
    require(${JSON.stringify(module)});
    const names = new Set();
    for (const file of Object.keys(require.cache)) {
      const at = file.lastIndexOf('node_modules/');
      if (at < 0) continue;
      const parts = file.slice(at + 'node_modules/'.length).split('/');
      names.add(parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]);
    }
    process.stdout.write(JSON.stringify([...names].sort()));`;
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe('what loading the configuration costs', () => {
  // The admin service and `bridge validate` load configurations; neither talks to the brokers
  // the rules write to, so neither should load (or fail for want of) their clients.
  it('validating a configuration loads no broker client: not MQTT.js, amqplib or nats', () => {
    const loaded = packagesLoadedBy('@app/bridge-config');
    expect(loaded).toEqual(expect.arrayContaining(['zod', 'yaml']));
    expect(loaded.filter((name) => ['mqtt', 'amqplib', 'nats'].includes(name))).toEqual([]);
  });

  it('the worker does load them (the check above can see a client when one is loaded)', () => {
    expect(packagesLoadedBy('@app/worker')).toEqual(expect.arrayContaining(['mqtt', 'amqplib', 'nats']));
  });
});
