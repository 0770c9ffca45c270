import { BoundedCache } from './bounded.cache';
import { caTrustingFetch, FetchLike } from './ca-trusting.fetch';
import { RegistryUnavailableError, SchemaUnavailableError } from './registry.errors';

export type { FetchLike } from './ca-trusting.fetch';

export type RegistryAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface SchemaRegistryClientOptions {
  /** Base URL of the Confluent-compatible API, e.g. `https://registry:8081` or Apicurio's `.../apis/ccompat/v7`. */
  url: string;
  auth?: RegistryAuth;
  /** PEM CA certificate(s) to trust for an https registry instead of the system's. */
  ca?: string | Buffer;
  /** Per request (default 5000 ms). */
  timeoutMs?: number;
  /** Entries per cache (ids, subject versions, registrations); default 1000. */
  cacheSize?: number;
  /** How long a `latest` answer is reused before asking again (default 30 s). */
  latestTtlMs?: number;
  /** Replaces `fetch` (unit specs; the CA option is then ignored). */
  fetch?: FetchLike;
}

export type RegistrySchemaType = 'AVRO' | 'PROTOBUF' | 'JSON';

/** A schema that names another registered schema (Protobuf imports, Avro named types). */
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A schema as the registry stores it. */
export interface RegistrySchema {
  schemaType: RegistrySchemaType;
  /** Avro: the schema's JSON text; Protobuf: the `.proto` text. */
  schema: string;
  references: SchemaReference[];
}

export interface RegisteredSchema extends RegistrySchema {
  id: number;
}

export interface SubjectVersion extends RegisteredSchema {
  subject: string;
  version: number;
}

const MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Builds a client; the only place the transport is chosen. */
export function createSchemaRegistryClient(options: SchemaRegistryClientOptions): SchemaRegistryClient {
  if (options.ca !== undefined && !options.fetch && new URL(options.url).protocol !== 'https:') {
    throw new TypeError('schema registry: a CA is given but the URL is not https');
  }
  const transport = options.fetch ?? (options.ca !== undefined ? caTrustingFetch(options.ca) : (fetch as FetchLike));
  return new SchemaRegistryClient(options, transport);
}

/**
 * A client of the Confluent Schema Registry REST API. Ids and numbered versions never change
 * once assigned, so their answers are cached (bounded); `latest` is reused for `latestTtlMs`.
 * Concurrent requests for the same thing share one call.
 *
 * Failures: `RegistryUnavailableError` (retriable) when the registry cannot be asked or answers
 * 5xx, 408, 429, 401 or 403; `SchemaUnavailableError` (permanent) for other 4xx answers, i.e.
 * no such subject, version or id (404), an incompatible schema (409) or an invalid one (422).
 */
export class SchemaRegistryClient {
  private readonly base: string;
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly latestTtlMs: number;
  private readonly byId: BoundedCache<number, RegisteredSchema>;
  private readonly bySubjectVersion: BoundedCache<string, SubjectVersion>;
  private readonly registered: BoundedCache<string, number>;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    options: SchemaRegistryClientOptions,
    private readonly transport: FetchLike,
  ) {
    const url = new URL(options.url);
    if (url.username || url.password) throw new TypeError('schema registry URL: give credentials in auth, not in the URL');
    this.base = url.href.replace(/\/+$/, '');
    this.origin = url.origin;
    this.headers = { accept: `${MEDIA_TYPE}, application/json` };
    if (options.auth?.kind === 'basic') {
      this.headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`, 'utf8').toString('base64')}`;
    } else if (options.auth?.kind === 'bearer') {
      this.headers.authorization = `Bearer ${options.auth.token}`;
    }
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.latestTtlMs = options.latestTtlMs ?? 30_000;
    const size = options.cacheSize ?? 1000;
    this.byId = new BoundedCache(size);
    this.bySubjectVersion = new BoundedCache(size);
    this.registered = new BoundedCache(size);
  }

  /** The schema with this global id (GET /schemas/ids/{id}). */
  schemaById(id: number): Promise<RegisteredSchema> {
    const cached = this.byId.get(id);
    if (cached) return Promise.resolve(cached);
    return this.once(`id:${id}`, async () => {
      const body = await this.request('GET', `/schemas/ids/${id}`, `schema id ${id}`);
      const schema = { id, ...toSchema(body) };
      this.byId.set(id, schema);
      return schema;
    });
  }

  /** A version of a subject, or its latest (GET /subjects/{subject}/versions/{version}). */
  subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const key = `${subject}\u0000${version}`;
    const cached = this.bySubjectVersion.get(key);
    if (cached) return Promise.resolve(cached);
    return this.once(`sv:${key}`, async () => {
      const body = await this.request('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`, `subject ${subject} version ${version}`);
      const found: SubjectVersion = { ...toSchema(body), id: integer(body.id, 'id'), subject, version: integer(body.version, 'version') };
      this.bySubjectVersion.set(key, found, version === 'latest' ? this.latestTtlMs : undefined);
      this.byId.set(found.id, { id: found.id, schemaType: found.schemaType, schema: found.schema, references: found.references });
      return found;
    });
  }

  /** Registers the schema under the subject, or finds it there already (POST /subjects/{subject}/versions); its id. */
  register(subject: string, schema: RegistrySchema): Promise<number> {
    return this.idFor('register', `/subjects/${encodeURIComponent(subject)}/versions`, subject, schema);
  }

  /** The id of a schema already registered under the subject, without registering it (POST /subjects/{subject}). */
  lookup(subject: string, schema: RegistrySchema): Promise<number> {
    return this.idFor('lookup', `/subjects/${encodeURIComponent(subject)}`, subject, schema);
  }

  private idFor(kind: 'register' | 'lookup', path: string, subject: string, schema: RegistrySchema): Promise<number> {
    // The same text under the same subject always has the same id, whichever way it was found.
    const key = `${subject}\u0000${schema.schemaType}\u0000${schema.schema}\u0000${JSON.stringify(schema.references)}`;
    const cached = this.registered.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.once(`${kind}:${key}`, async () => {
      const request = { schema: schema.schema, schemaType: schema.schemaType, references: schema.references };
      const body = await this.request(
        'POST',
        path,
        `${kind === 'register' ? 'registering' : 'looking up'} a ${schema.schemaType} schema under subject ${subject}`,
        request,
      );
      const id = integer(body.id, 'id');
      this.registered.set(key, id);
      this.byId.set(id, { id, ...schema });
      return id;
    });
  }

  private once<T>(key: string, ask: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const started = ask().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  private async request(method: 'GET' | 'POST', path: string, what: string, payload?: unknown): Promise<Record<string, unknown>> {
    const headers = payload === undefined ? this.headers : { ...this.headers, 'content-type': MEDIA_TYPE };
    let response: Response;
    let text: string;
    try {
      response = await this.transport(`${this.base}${path}`, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      throw new RegistryUnavailableError(`schema registry at ${this.origin} cannot be reached (${what}): ${reason(err)}`, undefined, { cause: err });
    }
    const body = parseJson(text);
    if (response.ok) {
      if (body === undefined)
        throw new RegistryUnavailableError(`schema registry at ${this.origin} answered ${what} with something that is not JSON`, response.status);
      return body;
    }
    const registryMessage = typeof body?.message === 'string' ? `: ${body.message.slice(0, 300)}` : '';
    const detail = `schema registry at ${this.origin} answered ${response.status} to ${what}${registryMessage}`;
    if (isTransient(response.status)) throw new RegistryUnavailableError(detail, response.status);
    throw new SchemaUnavailableError(detail, response.status, typeof body?.error_code === 'number' ? body.error_code : undefined);
  }
}

// 401/403 count as transient: the credentials are the operator's to fix, and dead-lettering
// every message meanwhile would lose what retrying keeps.
function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 401 || status === 403;
}

function toSchema(body: Record<string, unknown>): RegistrySchema {
  if (typeof body.schema !== 'string') throw new RegistryUnavailableError('schema registry answered without a schema text');
  const type = body.schemaType ?? 'AVRO'; // Confluent omits the type for Avro
  if (type !== 'AVRO' && type !== 'PROTOBUF' && type !== 'JSON')
    throw new SchemaUnavailableError(`schema registry gave a schema of unknown type ${String(type).slice(0, 40)}`);
  return { schemaType: type, schema: body.schema, references: Array.isArray(body.references) ? (body.references as SchemaReference[]) : [] };
}

function integer(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new RegistryUnavailableError(`schema registry answered without an integer ${name}`);
  return value;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function reason(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError') return 'no answer in time';
  return error.cause?.code ?? error.cause?.message ?? error.message;
}
