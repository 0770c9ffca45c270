import { KeyEntry, KeySource } from '@app/crypto';
import { waitFor } from '@app/core/testing/wait-for';
import { KeyringWatcher } from './keyring.watcher';

function entry(name: string): KeyEntry {
  return {
    name,
    type: 'symmetric',
    primaryVersion: 1,
    minDecryptionVersion: 1,
    versions: [{ version: 1, state: 'active', createdAt: '2026-01-01T00:00:00Z', secret: new Uint8Array(32).fill(1) }],
  };
}

/** A key source whose contents and failures the test sets. */
class ScriptedSource implements KeySource {
  keys: string[] = [];
  failNext = 0;
  version = 'v0';
  loads = 0;
  private listener?: () => void;
  describe = () => 'scripted';
  open = async () => undefined;
  close = async () => undefined;
  fingerprint = async () => this.version;
  onChange(listener: () => void): void {
    this.listener = listener;
  }
  change(keys: string[]): void {
    this.keys = keys;
    this.version = `v${Number(this.version.slice(1)) + 1}`;
    this.listener?.();
  }
  async load(): Promise<KeyEntry[]> {
    this.loads++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store unavailable');
    }
    return this.keys.map(entry);
  }
}

describe('KeyringWatcher', () => {
  it('retries a failed load at the next poll instead of skipping that change', async () => {
    const source = new ScriptedSource();
    source.keys = ['a'];
    const results: boolean[] = [];
    const watcher = new KeyringWatcher(
      async () => source,
      [],
      20,
      (ok) => results.push(ok),
    );
    await watcher.start();
    expect(watcher.current().names()).toEqual(['a']);
    source.failNext = 1;
    source.change(['a', 'b']);
    await waitFor(() => watcher.current().names().length === 2, 5_000, 'the poll after the failed one');
    expect(watcher.current().names()).toEqual(['a', 'b']);
    expect(results).toEqual([true, false, true]);
    await watcher.stop();
  });

  it('reloads at once on the source change event and on refresh()', async () => {
    const source = new ScriptedSource();
    const watcher = new KeyringWatcher(async () => source, [], 60_000);
    await watcher.start();
    source.change(['x']);
    // The poll interval is a minute: only the change event can load it in time.
    await waitFor(() => watcher.current().names().length === 1, 5_000, 'the change event to reload');
    expect(watcher.current().names()).toEqual(['x']);
    source.keys = ['x', 'y'];
    await watcher.refresh();
    expect(watcher.current().names()).toEqual(['x', 'y']);
    await watcher.stop();
  });

  it('wipes the secrets it loaded once the keyring holds its own copies', async () => {
    const source = new ScriptedSource();
    const loaded: KeyEntry[] = [];
    source.load = async () => {
      const list = [entry('k')];
      loaded.push(...list);
      return list;
    };
    const watcher = new KeyringWatcher(async () => source, [], 60_000);
    await watcher.start();
    expect(loaded[0].versions[0].secret.every((b) => b === 0)).toBe(true);
    expect(
      watcher
        .current()
        .encryptionKey('k')
        .secret.every((b) => b === 1),
    ).toBe(true);
    await watcher.stop();
  });
});
