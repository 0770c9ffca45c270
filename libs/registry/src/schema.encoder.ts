import { Document } from '@app/transform';
import { BoundedCache } from './bounded.cache';
import { decodeConfluentFrame } from './confluent-wire';
import { RegistryUnavailableError, SchemaUnavailableError } from './registry.errors';
import { compileRuleSchema, RuleSchemaPlan } from './rule-schema.plan';
import { RegistryHandle } from './schema-registries';
import { RegistrySchemaType } from './schema-registry.client';
import { encodeFramed, SchemaCodec } from './schema.codec';
import { subjectName } from './subject-name.strategy';

type EncodePlan = Extract<RuleSchemaPlan, { direction: 'encode' }>;

/** The schema one destination's records are written with: framed under `id`, or bare without one. */
export interface ResolvedSchema {
  readonly id?: number;
  readonly codec: SchemaCodec;
}

/** The registry's name for a schema format. */
export function registrySchemaType(format: 'avro' | 'protobuf'): RegistrySchemaType {
  return format === 'avro' ? 'AVRO' : 'PROTOBUF';
}

/**
 * Encodes a rule's output documents with its schema. `resolve` finds the schema for a
 * destination address (the subject may be named after the topic): once per subject, through
 * the registry, shared by every message waiting for it; `encode` is then synchronous.
 *
 * A registry that is down makes `resolve` wait (retried, nothing acknowledged meanwhile);
 * for `version: latest` it keeps using the version it last had. A subject, version or schema
 * the registry refuses is a SchemaUnavailableError; a document that does not fit, a
 * SchemaInvalidError from `encode`. Both are permanent: the message is dead-lettered.
 */
export class SchemaEncoder {
  /** Whether the subject depends on the destination's address (else any address gives the same schema). */
  readonly byAddress: boolean;
  private readonly resolving: BoundedCache<string, Promise<ResolvedSchema>>;
  private readonly lastLatest: BoundedCache<string, ResolvedSchema>;
  private readonly codecs: BoundedCache<number, SchemaCodec>;
  private readonly bare?: ResolvedSchema;

  constructor(
    private readonly plan: EncodePlan,
    private readonly registry?: RegistryHandle,
    cacheSize = 1_000,
  ) {
    if (!registry) {
      if (!plan.codec) throw new TypeError('a schema without a registry needs its file compiled');
      this.bare = { codec: plan.codec };
    }
    this.byAddress = registry !== undefined && plan.subject === undefined && plan.strategy !== 'record';
    this.resolving = new BoundedCache(cacheSize);
    this.lastLatest = new BoundedCache(cacheSize);
    this.codecs = new BoundedCache(cacheSize);
  }

  /** The schema for records written to `address` (a Kafka topic, MQTT topic, NATS subject...). */
  resolve(address: string): Promise<ResolvedSchema> {
    if (this.bare) return Promise.resolve(this.bare);
    const subject = this.subjectFor(address);
    const cached = this.resolving.get(subject);
    if (cached) return cached;
    const started: Promise<ResolvedSchema> = this.find(subject).catch((error: unknown) => {
      // Only answers are kept: a failure is asked again by the next message (unless a newer ask replaced this one).
      if (this.resolving.get(subject) === started) this.resolving.delete(subject);
      throw error;
    });
    // `latest` is asked again after the registry's latestTtlMs, by the client's own cache.
    this.resolving.set(subject, started, this.plan.codec || this.plan.version !== 'latest' ? undefined : 1_000);
    return started;
  }

  /** @throws SchemaInvalidError naming the field that does not fit. */
  encode(resolved: ResolvedSchema, document: Document): Buffer {
    return resolved.id === undefined ? resolved.codec.encode(document) : encodeFramed(resolved.codec, resolved.id, document);
  }

  /**
   * Reads back what `encode` wrote for `address` (a framed record's body after its header): for
   * `bridge test`, which compares outputs as documents.
   * @throws DecodeFailedError when the bytes are not a record of that schema.
   */
  async read(address: string, bytes: Buffer): Promise<Document> {
    const resolved = await this.resolve(address);
    const body = resolved.id === undefined ? bytes : decodeConfluentFrame(bytes, this.plan.format === 'protobuf').body;
    return resolved.codec.decode(body);
  }

  private subjectFor(address: string): string {
    if (this.plan.subject !== undefined) return this.plan.subject;
    // Without a file the strategy is `topic` (validation): the record name is not needed.
    return subjectName(this.plan.strategy, { topic: address, recordName: this.plan.codec?.recordName ?? '' });
  }

  private async find(subject: string): Promise<ResolvedSchema> {
    const registry = this.registry!;
    const { plan } = this;
    const schemaType = registrySchemaType(plan.format);
    if (plan.codec) {
      const schema = { schemaType, schema: plan.schemaText!, references: [] };
      const what = `${plan.register ? 'registering' : 'looking up'} the schema of ${subject}`;
      const id = await registry.retrying(what, () => (plan.register ? registry.client.register(subject, schema) : registry.client.lookup(subject, schema)));
      return { id, codec: plan.codec };
    }
    const ask = () => registry.client.subjectVersion(subject, plan.version);
    let found: Awaited<ReturnType<typeof ask>>;
    try {
      found = await ask();
    } catch (error) {
      const last = this.lastLatest.get(subject);
      if (error instanceof RegistryUnavailableError && last) return last;
      if (!(error instanceof RegistryUnavailableError)) throw error;
      found = await registry.retrying(`fetching ${subject} version ${plan.version}`, ask);
    }
    if (found.schemaType !== schemaType) {
      throw new SchemaUnavailableError(`subject ${subject} version ${found.version} is a ${found.schemaType} schema; the rule writes ${plan.format}`);
    }
    let codec = this.codecs.get(found.id);
    if (!codec) {
      codec = compileRuleSchema(plan.format, found.schema, plan);
      this.codecs.set(found.id, codec);
    }
    const resolved = { id: found.id, codec };
    if (plan.version === 'latest') this.lastLatest.set(subject, resolved);
    return resolved;
  }
}
