import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigSchema } from './bridge-config.json-schema';

const CONFIG_SCHEMA_PATH = join(__dirname, '../../../docs/bridge-config.schema.json');

/** docs/bridge-config.schema.json is generated from bridgeConfigSchema; editors read it (docs/configuration.md). */
describe('docs/bridge-config.schema.json', () => {
  const generated = renderConfigSchema();

  it('is what npm run config-schema generates from bridgeConfigSchema (run it after changing the schema)', () => {
    const committed = readFileSync(CONFIG_SCHEMA_PATH, 'utf8');
    if (committed !== generated) {
      throw new Error('docs/bridge-config.schema.json is stale: bridgeConfigSchema changed. Run `npm run config-schema` and commit the file.');
    }
  });

  const schema = JSON.parse(generated);
  const root = schema.definitions.BridgeConfig;

  it('describes the top-level sections, refusing unknown ones', () => {
    expect(Object.keys(root.properties).sort()).toEqual([
      'admin',
      'control',
      'deadLetter',
      'fromKafka',
      'http',
      'kafka',
      'keys',
      'log',
      'mqtt',
      'rules',
      'schemaRegistries',
    ]);
    expect(root.required).toEqual(['mqtt', 'kafka']);
    expect(root.additionalProperties).toBe(false);
  });

  it('lets a Kafka dead-letter target leave out type, as the loader does', () => {
    const kafkaBranch = root.properties.deadLetter.anyOf.find(
      (branch: { properties: { type: { const: string } } }) => branch.properties.type.const === 'kafka',
    );
    expect(kafkaBranch.required).toEqual(['topic']);
  });

  it('accepts a ${NAME} substitution for a scalar field, keeping its default', () => {
    const keepalive = root.properties.mqtt.properties.keepaliveSeconds;
    expect(keepalive.default).toBe(30);
    expect(keepalive.anyOf[0]).toMatchObject({ type: 'integer', minimum: 0, maximum: 65535 });
    expect(new RegExp(keepalive.anyOf[1].pattern).test('${KEEPALIVE:-30}')).toBe(true);
  });
});
