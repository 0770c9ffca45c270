import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShutdownError } from '@app/core';
import { RegistryUnavailableError, SchemaUnavailableError } from './registry.errors';
import { SchemaRegistries } from './schema-registries';
import { SchemaRegistryClient, SchemaRegistryClientOptions } from './schema-registry.client';
import { schemaRegistrySchema } from './schema-registry.schema';

const FAST = { initialMs: 1, maxMs: 2, maxAttempts: 0, maxElapsedMs: 0 };

describe('SchemaRegistries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'registries-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function capture(configs: Record<string, unknown>): SchemaRegistryClientOptions[] {
    const seen: SchemaRegistryClientOptions[] = [];
    const parsed = Object.fromEntries(Object.entries(configs).map(([name, c]) => [name, schemaRegistrySchema.parse(c)]));
    new SchemaRegistries(parsed, { create: (options) => (seen.push(options), {} as SchemaRegistryClient) });
    return seen;
  }

  it('gives each client its auth, CA, timeout and cache settings from the configuration', () => {
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    const [basic, bearer] = capture({
      a: { url: 'https://reg:8081', auth: { basic: { username: 'u', password: 'p' } }, ca: join(dir, 'ca.pem'), timeoutMs: 900 },
      b: { url: 'http://reg:8080/apis/ccompat/v7', auth: { bearer: { token: 't0k' } }, cacheSize: 7, latestTtlMs: 0 },
    });
    expect(basic).toMatchObject({ url: 'https://reg:8081', auth: { kind: 'basic', username: 'u', password: 'p' }, timeoutMs: 900, cacheSize: 1000 });
    expect(String(basic.ca)).toBe('PEM');
    expect(bearer).toMatchObject({ auth: { kind: 'bearer', token: 't0k' }, ca: undefined, cacheSize: 7, latestTtlMs: 0 });
  });

  it('refuses credentials in the URL, a CA for http, and URLs that are not http', () => {
    const problems = (config: unknown) => {
      const parsed = schemaRegistrySchema.safeParse(config);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ url: 'http://u:p@reg:8081', ca: 'ca.pem' })).toEqual([
      'url: give credentials in auth, not in the URL (the URL is logged)',
      'ca: a CA applies to an https URL',
    ]);
    expect(problems({ url: 'ftp://reg' })).toEqual(['url: expected an http or https URL, got ftp:']);
    expect(problems({ url: 'http://reg', auth: { basic: { username: 'u' } } })).not.toEqual([]);
  });

  it('retries while the registry is unavailable, not when it refuses, and ends every wait when closed', async () => {
    const registries = new SchemaRegistries(
      { main: schemaRegistrySchema.parse({ url: 'http://reg', retry: FAST }) },
      { create: () => ({}) as SchemaRegistryClient },
    );
    const main = registries.get('main');
    let calls = 0;
    await expect(
      main.retrying('x', async () => {
        if (++calls < 3) throw new RegistryUnavailableError('down');
        return 'ok';
      }),
    ).resolves.toBe('ok');
    expect(calls).toBe(3);

    calls = 0;
    const refused = new SchemaUnavailableError('404');
    await expect(main.retrying('y', () => (calls++, Promise.reject(refused)))).rejects.toBe(refused);
    expect(calls).toBe(1);

    const waiting = main.retrying('z', () => Promise.reject(new RegistryUnavailableError('down')));
    registries.close();
    await expect(waiting).rejects.toBeInstanceOf(ShutdownError);
    expect(() => registries.get('other')).toThrow('no schema registry named other');
  });
});
