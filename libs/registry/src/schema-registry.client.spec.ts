import { RegistryUnavailableError, SchemaUnavailableError } from './registry.errors';
import { createSchemaRegistryClient, FetchLike, SchemaRegistryClientOptions } from './schema-registry.client';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A fetch that answers from a table of `METHOD path` -> [status, body], and records the calls. */
function fakeRegistry(routes: Record<string, [number, unknown] | (() => Promise<Response>)>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const path = url.replace('http://registry:8081/apis/ccompat/v7', '');
    calls.push({ url, method: init.method, headers: init.headers, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const route = routes[`${init.method} ${path}`];
    if (!route) return new Response(JSON.stringify({ error_code: 404, message: 'HTTP 404 Not Found' }), { status: 404 });
    if (typeof route === 'function') return route();
    const [status, body] = route;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  };
  return { fetch, calls };
}

const AVRO_SCHEMA = '{"type":"record","name":"T","fields":[{"name":"a","type":"int"}]}';
const PROTO_SCHEMA = 'syntax = "proto3";\nmessage P { int32 a = 1; }\n';
const BASE = 'http://registry:8081/apis/ccompat/v7/';

function client(routes: Parameters<typeof fakeRegistry>[0], options: Partial<SchemaRegistryClientOptions> = {}) {
  const registry = fakeRegistry(routes);
  return { ...registry, client: createSchemaRegistryClient({ url: BASE, fetch: registry.fetch, ...options }) };
}

describe('SchemaRegistryClient', () => {
  it('fetches a schema by id once, Avro when the registry leaves the type out', async () => {
    const { client: registry, calls } = client({ 'GET /schemas/ids/1': [200, { schema: AVRO_SCHEMA }] });
    const expected = { id: 1, schemaType: 'AVRO', schema: AVRO_SCHEMA, references: [] };
    await expect(registry.schemaById(1)).resolves.toEqual(expected);
    await expect(registry.schemaById(1)).resolves.toEqual(expected);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers.accept).toContain('application/vnd.schemaregistry.v1+json');
  });

  it('keeps numbered versions, asks again for latest once its time is over, and learns the id from either', async () => {
    const answer = { subject: 'telemetry-value', id: 2, version: 3, schemaType: 'PROTOBUF', schema: PROTO_SCHEMA };
    const { client: registry, calls } = client(
      { 'GET /subjects/telemetry-value/versions/3': [200, answer], 'GET /subjects/telemetry-value/versions/latest': [200, answer] },
      { latestTtlMs: 0 },
    );
    await registry.subjectVersion('telemetry-value', 3);
    await registry.subjectVersion('telemetry-value', 3);
    await registry.subjectVersion('telemetry-value', 'latest');
    await expect(registry.subjectVersion('telemetry-value', 'latest')).resolves.toMatchObject({ id: 2, version: 3, schemaType: 'PROTOBUF' });
    await expect(registry.schemaById(2)).resolves.toMatchObject({ schema: PROTO_SCHEMA });
    expect(calls.map((c) => c.url.slice(BASE.length - 1))).toEqual([
      '/subjects/telemetry-value/versions/3',
      '/subjects/telemetry-value/versions/latest',
      '/subjects/telemetry-value/versions/latest',
    ]);
  });

  it('escapes the subject in the path', async () => {
    const { client: registry, calls } = client({});
    await registry.subjectVersion('a/b c', 1).catch(() => undefined);
    expect(calls[0].url).toBe(`${BASE}subjects/a%2Fb%20c/versions/1`);
  });

  it('registers a schema once and knows it by id afterwards', async () => {
    const { client: registry, calls } = client({ 'POST /subjects/telemetry-value/versions': [200, { id: 7 }] });
    const schema = { schemaType: 'PROTOBUF' as const, schema: PROTO_SCHEMA, references: [] };
    await expect(registry.register('telemetry-value', schema)).resolves.toBe(7);
    await expect(registry.register('telemetry-value', schema)).resolves.toBe(7);
    await expect(registry.schemaById(7)).resolves.toEqual({ id: 7, ...schema });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'POST', body: { schema: PROTO_SCHEMA, schemaType: 'PROTOBUF', references: [] } });
    expect(calls[0].headers['content-type']).toBe('application/vnd.schemaregistry.v1+json');
  });

  it('looks a schema up without registering it', async () => {
    const { client: registry, calls } = client({
      'POST /subjects/telemetry-value': [200, { subject: 'telemetry-value', id: 4, version: 1, schema: AVRO_SCHEMA }],
    });
    await expect(registry.lookup('telemetry-value', { schemaType: 'AVRO', schema: AVRO_SCHEMA, references: [] })).resolves.toBe(4);
    expect(calls[0].url).toBe(`${BASE}subjects/telemetry-value`);
  });

  it('shares one request between concurrent callers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { client: registry, calls } = client({
      'GET /schemas/ids/1': async () => {
        await gate;
        return new Response(JSON.stringify({ schema: AVRO_SCHEMA }));
      },
    });
    const both = Promise.all([registry.schemaById(1), registry.schemaById(1)]);
    release();
    const [a, b] = await both;
    expect(a).toBe(b);
    expect(calls).toHaveLength(1);
  });

  it.each([
    [{ kind: 'basic' as const, username: 'bridge', password: 'pä:ss' }, `Basic ${Buffer.from('bridge:pä:ss').toString('base64')}`],
    [{ kind: 'bearer' as const, token: 'abc.def' }, 'Bearer abc.def'],
  ])('authenticates with %j', async (auth, header) => {
    const { client: registry, calls } = client({ 'GET /schemas/ids/1': [200, { schema: AVRO_SCHEMA }] }, { auth });
    await registry.schemaById(1);
    expect(calls[0].headers.authorization).toBe(header);
  });

  it.each([
    [404, { error_code: 40401, message: 'Subject not found' }, 40401],
    [409, { error_code: 409, message: 'Incompatible artifact' }, 409],
    [422, { error_code: 42201, message: 'Invalid schema' }, 42201],
    [400, 'bad request', undefined],
  ])('gives a permanent schema-unavailable error for %i', async (status, body, registryCode) => {
    const { client: registry } = client({ 'POST /subjects/s/versions': [status, body] });
    const error = await registry.register('s', { schemaType: 'AVRO', schema: AVRO_SCHEMA, references: [] }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SchemaUnavailableError);
    expect(error).toMatchObject({ code: 'schema-unavailable', retriable: false, status, registryCode });
    expect((error as Error).message).toContain(`answered ${status} to registering a AVRO schema under subject s`);
  });

  it.each([500, 503, 408, 429, 401, 403])('gives a retriable registry-unavailable error for %i, and asks again next time', async (status) => {
    let fail = true;
    const { client: registry, calls } = client({
      'GET /schemas/ids/1': async () => (fail ? new Response('{"message":"busy"}', { status }) : new Response(JSON.stringify({ schema: AVRO_SCHEMA }))),
    });
    const error = await registry.schemaById(1).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error).toMatchObject({ code: 'registry-unavailable', retriable: true, status });
    fail = false;
    await expect(registry.schemaById(1)).resolves.toMatchObject({ id: 1 });
    expect(calls).toHaveLength(2);
  });

  it('gives a retriable error when the registry cannot be reached or does not answer in time', async () => {
    const refused = createSchemaRegistryClient({
      url: BASE,
      fetch: () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
    });
    await expect(refused.schemaById(1)).rejects.toMatchObject({
      code: 'registry-unavailable',
      retriable: true,
      message: 'schema registry at http://registry:8081 cannot be reached (schema id 1): ECONNREFUSED',
    });
    const silent = createSchemaRegistryClient({
      url: BASE,
      timeoutMs: 20,
      fetch: (_url, init) => new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    });
    const error = await silent.schemaById(1).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'registry-unavailable', retriable: true, message: expect.stringContaining('no answer in time') });
  });

  it('takes an answer that is not JSON for a registry in trouble', async () => {
    const { client: registry } = client({ 'GET /schemas/ids/1': [200, '<html>proxy error</html>'] });
    await expect(registry.schemaById(1)).rejects.toBeInstanceOf(RegistryUnavailableError);
  });

  it('refuses credentials in the URL and a CA for a plain-http registry', () => {
    expect(() => createSchemaRegistryClient({ url: 'http://user:secret@registry:8081' })).toThrow('give credentials in auth');
    expect(() => createSchemaRegistryClient({ url: 'http://registry:8081', ca: 'PEM' })).toThrow('not https');
  });
});
