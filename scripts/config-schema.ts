/**
 * npm run config-schema: writes docs/bridge-config.schema.json and docs/configuration-reference.md
 * (renderConfigSchema and renderConfigReference in @app/bridge-config). Editors use it through a `# yaml-language-server: $schema=...` comment
 * (docs/configuration.md). `--check` writes nothing and exits 1 when the committed file is
 * stale; the unit spec libs/bridge-config/src/bridge-config.json-schema.spec.ts fails in the
 * same case.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderConfigReference, renderConfigSchema } from '@app/bridge-config';

/** What the command writes: the JSON Schema for editors and the generated reference page. */
const OUTPUTS: ReadonlyArray<readonly [string, () => string]> = [
  [join(__dirname, '..', 'docs', 'bridge-config.schema.json'), renderConfigSchema],
  [join(__dirname, '..', 'docs', 'configuration-reference.md'), renderConfigReference],
];

function main(argv: string[]): number {
  let stale = 0;
  for (const [file, render] of OUTPUTS) {
    const text = render();
    const shown = relative(process.cwd(), file);
    if (argv.includes('--check')) {
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing: stale
      }
      if (current !== text) {
        console.error(`${shown} is not up to date with bridgeConfigSchema: run npm run config-schema`);
        stale++;
      }
      continue;
    }
    writeFileSync(file, text);
    console.log(`wrote ${shown} (${text.length} bytes)`);
  }
  return stale > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
