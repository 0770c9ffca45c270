import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFileWatcher } from './config-file.watcher';

const settle = () => new Promise((r) => setTimeout(r, 250));

describe('ConfigFileWatcher', () => {
  let dir: string;
  let watcher: ConfigFileWatcher | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-watch-'));
  });
  afterEach(() => {
    watcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A ConfigMap volume as the kubelet lays it out: file -> ..data/file, ..data -> ..<timestamp>. */
  function configMapVersion(name: string, text: string): void {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'bridge.yaml'), text);
  }

  it('sees a ConfigMap update, which only re-points the ..data symlink', async () => {
    configMapVersion('..2024_01_01_00_00_00.1', 'rules: [a]\n');
    symlinkSync('..2024_01_01_00_00_00.1', join(dir, '..data'));
    symlinkSync('..data/bridge.yaml', join(dir, 'bridge.yaml'));
    let changes = 0;
    watcher = new ConfigFileWatcher(join(dir, 'bridge.yaml'), () => changes++, 50);
    watcher.start();

    // The kubelet's atomic writer: new directory, new symlink beside, renamed over ..data.
    configMapVersion('..2024_01_01_00_01_00.2', 'rules: [a, b]\n');
    symlinkSync('..2024_01_01_00_01_00.2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2024_01_01_00_00_00.1'), { recursive: true });
    await settle();
    expect(changes).toBe(1);
  });

  it('sees a file written in place or renamed over, and ignores other files of the directory', async () => {
    const file = join(dir, 'bridge.yaml');
    writeFileSync(file, 'one\n');
    let changes = 0;
    watcher = new ConfigFileWatcher(file, () => changes++, 50);
    watcher.start();

    writeFileSync(join(dir, 'keys.json'), '{}');
    await settle();
    expect(changes).toBe(0);

    writeFileSync(file, 'two, longer\n');
    await settle();
    expect(changes).toBe(1);

    writeFileSync(join(dir, '.bridge.yaml.swp'), 'three\n');
    renameSync(join(dir, '.bridge.yaml.swp'), file);
    await settle();
    expect(changes).toBe(2);
  });
});
