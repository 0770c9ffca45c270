import { RuleSchemaPlan } from './rule-schema.plan';
import { SchemaRegistries } from './schema-registries';
import { SchemaDecoder } from './schema.decoder';
import { SchemaEncoder } from './schema.encoder';

/** A rule's schema stage as the pipeline takes it: a decoder for its input or an encoder for its output. */
export interface SchemaStage {
  readonly schemaDecoder?: SchemaDecoder;
  readonly schemaEncoder?: SchemaEncoder;
}

/** Builds a rule's schema stage from its checked plan, on the worker's registries. */
export function schemaStage(plan: RuleSchemaPlan | undefined, registries: SchemaRegistries): SchemaStage {
  if (!plan) return {};
  const registry = plan.registry === undefined ? undefined : registries.get(plan.registry);
  return plan.direction === 'decode' ? { schemaDecoder: new SchemaDecoder(plan, registry) } : { schemaEncoder: new SchemaEncoder(plan, registry) };
}
