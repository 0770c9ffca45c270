import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** Lints one file planted in the tree for the duration of the call (type-aware rules need it on disk). */
function lintPlanted(relative: string, text: string): { status: number | null; output: string } {
  const file = join(ROOT, relative);
  writeFileSync(file, text);
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/eslint/bin/eslint.js'), '--no-warn-ignored', relative], { cwd: ROOT, encoding: 'utf8' });
    return { status: run.status, output: run.stdout + run.stderr };
  } finally {
    rmSync(file, { force: true });
  }
}

describe('npm run lint enforces the dependency direction of docs/architecture.md', () => {
  it('refuses a lib importing one above it', () => {
    const { status, output } = lintPlanted(
      'libs/core/src/planted-upward.lint.ts',
      "import { BridgeWorker } from '@app/worker';\nexport const planted = BridgeWorker;\n",
    );
    expect(status).toBe(1);
    expect(output).toContain("'@app/worker' import is restricted from being used by a pattern. @app/core may import only no other lib (docs/architecture.md)");
  });

  it('refuses a lib reaching into another with a relative path', () => {
    const { status, output } = lintPlanted(
      'libs/topic/src/planted-relative.lint.ts',
      "import { BridgeError } from '../../core/src/bridge.error';\nexport const planted = BridgeError;\n",
    );
    expect(status).toBe(1);
    expect(output).toContain('A lib imports other libs as @app/<lib>, never apps, tests, benchmarks or relative paths out of itself');
  });

  it('accepts an import the picture allows', () => {
    const { status, output } = lintPlanted(
      'libs/topic/src/planted-allowed.lint.ts',
      "import { BridgeError } from '@app/core';\nexport const planted = BridgeError;\n",
    );
    expect({ status, output }).toEqual({ status: 0, output: '' });
  });

  it('refuses a promise nobody awaits or handles', () => {
    const { status, output } = lintPlanted(
      'libs/core/src/planted-floating.lint.ts',
      'export function planted(work: () => Promise<void>): void {\n  work();\n}\n',
    );
    expect(status).toBe(1);
    expect(output).toContain('@typescript-eslint/no-floating-promises');
  });
});
