import { z } from 'zod';
import { adminSchema, controlSchema } from '@app/admin';
import { refineWith } from '@app/config';
import { kafkaConnectionSchema } from '@app/kafka/kafka.schema';
import { keystoreSchema, masterKeySchema } from '@app/keystore';
import { mqttSourceSchema } from '@app/mqtt/mqtt.schema';
import { schemaRegistrySchema } from '@app/registry/schema-registry.schema';
import { ruleProcessSchema } from './rule-process.schema';
import { byteLengthProblem, compileTemplate, mqttStringProblem, parseTopicFilter, TemplateError, TopicFilterError } from '@app/topic';
import { deadLetterSchema, DeadLetterTarget } from './dead-letter.schema';
import { destinationSchema, destinationSpec } from './destination.specs';
import { kafkaRuleSchema } from './kafka-rule.schema';
import { ruleNameSchema } from './rule-name.schema';
import { transformProblems, transformSchema } from './transform.schema';

export type { DeadLetterTarget };

const ruleObjectSchema = z
  .object({
    name: ruleNameSchema,
    /** MQTT topic filters; `{name}` captures one level, a last `{name#}` the rest. */
    filters: z.array(z.string()).min(1),
    /** Subscribe as `$share/<group>/<filter>` so several workers split the stream. */
    shareGroup: z
      .string()
      .regex(/^[^/+#]+$/, "expected a group name without '/', '+' or '#'")
      .superRefine(refineWith((group) => mqttStringProblem(group, 'the share group')))
      .optional(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    /**
     * Which MQTT connection the rule's messages arrive on (see isolation.ts): `auto` gives a
     * connection of its own to a rule with a destination other than Kafka, so that destination
     * being down holds only this rule; `own` always; `none` shares the worker's connection.
     */
    isolation: z.enum(['auto', 'own', 'none']).default('auto'),
    /** `skip` ignores retained messages replayed by the broker when the bridge subscribes. */
    retained: z.enum(['forward', 'skip']).default('forward'),
    destinations: z.array(destinationSchema).min(1),
    /** What happens to the payload; default: passed through untouched. */
    transform: transformSchema.default({ mode: 'passthrough' }),
    /** Decode, steps (validate, filter, map, enrich, rename, drop), encode: between opening and sealing. */
    process: ruleProcessSchema.optional(),
    deadLetter: deadLetterSchema.optional(),
  })
  .strict();

/** Checks that need the whole rule: filters parse, templates only use captures every filter defines. */
function checkRule(rule: z.output<typeof ruleObjectSchema>, ctx: z.RefinementCtx): void {
  const problem = (path: Array<string | number>, error: unknown, kind: new (...a: never[]) => Error) => {
    if (!(error instanceof kind)) throw error;
    ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: error.message });
  };
  for (const [field, message] of transformProblems(rule.transform)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['transform', field], message });
  }
  const captureSets: string[][] = [];
  rule.filters.forEach((source, i) => {
    try {
      const filter = parseTopicFilter(source);
      captureSets.push([...filter.captures]);
      // The group prefix counts towards the 65535 bytes of the filter the broker receives.
      const shared = rule.shareGroup === undefined ? null : byteLengthProblem(`$share/${rule.shareGroup}/${filter.mqtt}`, 'the shared subscription');
      if (shared) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['filters', i], message: shared });
    } catch (error) {
      problem(['filters', i], error, TopicFilterError);
    }
  });
  if (captureSets.length < rule.filters.length) return;
  const captures = captureSets[0].filter((name) => captureSets.every((set) => set.includes(name)));
  rule.destinations.forEach((destination, d) => {
    const spec = destinationSpec(destination);
    for (const [path, template] of spec.templates(destination)) {
      try {
        const compiled = compileTemplate(template, captures);
        const reads = compiled.placeholders.find((p) => p.startsWith('payload.'));
        if (reads && !rule.process) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['destinations', d, ...path],
            message: `{${reads}} reads the payload: give the rule a process section that decodes it (e.g. process: { input: json })`,
          });
        }
      } catch (error) {
        problem(['destinations', d, ...path], error, TemplateError);
      }
    }
    for (const [path, message] of spec.check?.(destination) ?? []) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['destinations', d, ...path], message });
    }
  });
}

export const ruleSchema = ruleObjectSchema.superRefine(checkRule);

const keysSchema = z
  .object({
    /** Plain JSON key file, secrets in clear (development; see docs/envelope.md). */
    file: z.string().min(1).optional(),
    /** Wrapped keystore managed by the admin service: a file or a Kafka compacted topic. */
    store: keystoreSchema.optional(),
    /** Master key that unwraps the store's keys; required with `store`. */
    masterKey: masterKeySchema.optional(),
    /** Master keys being rotated out: still accepted until POST /v1/master-key/rewrap has moved every key. */
    previousMasterKeys: z.array(masterKeySchema).default([]),
    /** How often the key source is checked for changes. */
    reloadIntervalMs: z.number().int().min(100).default(1_000),
  })
  .strict()
  .superRefine((k, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if ((k.file === undefined) === (k.store === undefined))
      issue(k.file ? 'store' : 'file', 'give exactly one of file (plain key file) or store (wrapped keystore)');
    if (k.store && !k.masterKey) issue('masterKey', 'a wrapped keystore needs masterKey (file or env)');
    if (k.file && k.masterKey) issue('masterKey', 'masterKey applies to store only; a plain key file is not wrapped');
    if (k.previousMasterKeys.length > 0 && !k.store) issue('previousMasterKeys', 'previous master keys apply to a wrapped store only');
  });

const httpSchema = z
  .object({
    /** Serves /metrics, /health/live and /health/ready. */
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('0.0.0.0'),
    /** 0 picks a free port (logged at start-up). */
    port: z.number().int().min(0).max(65535).default(9464),
    /** /health/ready fails while a message has been held unacknowledged longer than this (it holds every acknowledgement behind it). */
    maxHeldSeconds: z.number().positive().default(60),
  })
  .strict();

const logSchema = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** json: one pino JSON object per line (for log shippers); text: Nest's coloured lines. */
    format: z.enum(['json', 'text']).default('json'),
  })
  .strict();

export const bridgeConfigSchema = z
  .object({
    mqtt: mqttSourceSchema,
    http: httpSchema.default({}),
    log: logSchema.default({}),
    kafka: kafkaConnectionSchema,
    keys: keysSchema.optional(),
    /** The admin REST service (apps/admin) reads this section; workers ignore it. */
    admin: adminSchema.optional(),
    /** Control-plane events between the admin service and the workers. */
    control: controlSchema.optional(),
    deadLetter: deadLetterSchema.default({ type: 'kafka', topic: 'bridge.dead-letter' }),
    /** Schema registries by name, for rules whose process section reads or writes Avro or Protobuf. */
    schemaRegistries: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a name of letters, digits, _ . -'), schemaRegistrySchema).default({}),
    /** MQTT -> other brokers; the loader wants at least one rule here or in fromKafka. */
    rules: z.array(ruleSchema).default([]),
    /** Kafka -> MQTT. */
    fromKafka: z.array(kafkaRuleSchema).default([]),
  })
  .strict();

export type RuleConfig = z.output<typeof ruleSchema>;
export type BridgeConfig = z.output<typeof bridgeConfigSchema>;
export type KeysConfig = z.output<typeof keysSchema>;
