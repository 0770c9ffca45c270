/**
 * npm run config-schema: writes docs/bridge-config.schema.json (renderConfigSchema in
 * @app/bridge-config). Editors use it through a `# yaml-language-server: $schema=...` comment
 * (docs/configuration.md). `--check` writes nothing and exits 1 when the committed file is
 * stale; the unit spec libs/bridge-config/src/bridge-config.json-schema.spec.ts fails in the
 * same case.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderConfigSchema } from '@app/bridge-config';

const CONFIG_SCHEMA_PATH = join(__dirname, '..', 'docs', 'bridge-config.schema.json');

function main(argv: string[]): number {
  const text = renderConfigSchema();
  const shown = relative(process.cwd(), CONFIG_SCHEMA_PATH);
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_SCHEMA_PATH, 'utf8');
    } catch {
      // missing: stale
    }
    if (current === text) return 0;
    console.error(`${shown} is not up to date with bridgeConfigSchema: run npm run config-schema`);
    return 1;
  }
  writeFileSync(CONFIG_SCHEMA_PATH, text);
  console.log(`wrote ${shown} (${text.length} bytes)`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
