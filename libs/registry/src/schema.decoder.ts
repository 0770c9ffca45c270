import { Document } from '@app/transform';
import { BoundedCache } from './bounded.cache';
import { decodeConfluentFrame } from './confluent-wire';
import { SchemaUnavailableError } from './registry.errors';
import { compileRuleSchema, RuleSchemaPlan } from './rule-schema.plan';
import { RegistryHandle } from './schema-registries';
import { registrySchemaType } from './schema.encoder';
import { SchemaCodec } from './schema.codec';
import { compileProtobufSchema } from './protobuf.codec';

type DecodePlan = Extract<RuleSchemaPlan, { direction: 'decode' }>;

/**
 * Decodes a rule's input records with their schema: with a registry, each record's Confluent
 * frame names the schema id (and for Protobuf the message), fetched once and shared by every
 * record waiting for it; without one, bare bodies of the file's schema.
 *
 * Throws DecodeFailedError for bytes that are not a frame or not a record of the schema,
 * SchemaUnavailableError for an id the registry does not know or of another format (both
 * dead-lettered); waits while the registry is down.
 */
export class SchemaDecoder {
  private readonly codecs: BoundedCache<string, Promise<SchemaCodec>>;

  constructor(
    private readonly plan: DecodePlan,
    private readonly registry?: RegistryHandle,
    cacheSize = 1_000,
  ) {
    if (!registry && !plan.codec) throw new TypeError('a schema without a registry needs its file compiled');
    this.codecs = new BoundedCache(cacheSize);
  }

  async decode(bytes: Buffer): Promise<Document> {
    if (!this.registry) return this.plan.codec!.decode(bytes);
    const frame = decodeConfluentFrame(bytes, this.plan.format === 'protobuf');
    const codec = await this.codecFor(frame.schemaId, frame.messageIndexes);
    return codec.decode(frame.body);
  }

  private codecFor(id: number, messageIndexes: readonly number[] | undefined): Promise<SchemaCodec> {
    const key = messageIndexes ? `${id}:${messageIndexes.join('.')}` : String(id);
    const cached = this.codecs.get(key);
    if (cached) return cached;
    const registry = this.registry!;
    const started = registry
      .retrying(`fetching schema id ${id}`, () => registry.client.schemaById(id))
      .then((found) => {
        const expected = registrySchemaType(this.plan.format);
        if (found.schemaType !== expected)
          throw new SchemaUnavailableError(`schema id ${id} is a ${found.schemaType} schema; the rule reads ${this.plan.format}`);
        return this.plan.format === 'avro' ? compileRuleSchema('avro', found.schema, {}) : compileProtobufAt(found.schema, messageIndexes ?? [0]);
      })
      .catch((error: unknown) => {
        this.codecs.delete(key);
        throw error;
      });
    this.codecs.set(key, started);
    return started;
  }
}

function compileProtobufAt(schema: string, messageIndexes: readonly number[]): SchemaCodec {
  // Decoding fills every field the writer sent; undeclared fields cannot occur.
  return compileProtobufSchema(schema, { messageIndexes });
}
