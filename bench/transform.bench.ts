/*
 * What a rule's process section costs the worker per message, in-process, through the same
 * PayloadTransformer the pipeline calls (open, process, seal, wipe), for the typical rule of
 * bench/lib/transform-rule.ts on a 256 B JSON document:
 *   npm run bench:transform
 *   = node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/transform.bench.ts
 * Every case runs once per round, the rounds interleave the cases (a noisy machine slows them
 * alike), and "steps add" pairs the cases with and without the process section round by round:
 * many short rounds pair more tightly than a few long ones when other jobs come and go.
 * BENCH_ROUNDS (20) and BENCH_MESSAGES (25000 per case and round) size the run, BENCH_CASES
 * (comma-separated) picks cases, e.g. for a profile of one with node --cpu-prof. The cases
 * `process>avro` and `process>protobuf` run the same rule writing Avro or Protobuf in the
 * Confluent frame (schema id already resolved) instead of JSON: issue 17's cost per message. Writes
 * bench/results/transform.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { EnvelopeSealer, generateKeyEntry, Keyring, SodiumProvider } from '@app/crypto';
import { transformSchema } from '@app/bridge-config';
import { PayloadTransformer, PreparedPayload, TransformingRule, usesSchema } from '@app/pipeline';
import { markdownTable } from './lib/markdown-table';
import { percentile, sortedCopy } from './lib/percentiles';
import { typicalSchemaRule } from './lib/transform-schemas';
import { compileTypicalProcess, contextOf, DOCUMENT_BYTES, messageOf, TOPIC, TYPICAL_PROCESS } from './lib/transform-rule';

const ROUNDS = positiveInteger('BENCH_ROUNDS', 20);
const MESSAGES = positiveInteger('BENCH_MESSAGES', 25_000);
/** Not measured: lets the JIT settle on every case before the first round counts. */
const WARM_UP_MESSAGES = 50_000;
const DESTINATION = 'bench.transform.out';
/** The target of issue 16 item 7: what the steps may add to the worker's CPU per message. */
const TARGET_STEPS_US = 8;

type CaseName = 'process' | 'open' | 'open+process' | 'open+seal' | 'open+process+seal' | 'process>avro' | 'process>protobuf';
const ALL_CASES: readonly CaseName[] = ['process', 'open', 'open+process', 'open+seal', 'open+process+seal', 'process>avro', 'process>protobuf'];
const CASE_NAMES = selectedCases();
/** Pairs whose difference is what the steps add: [label, with steps, without]. */
const PAIRS: ReadonlyArray<readonly [string, CaseName, CaseName]> = [
  ['decrypt', 'open+process', 'open'],
  ['reencrypt', 'open+process+seal', 'open+seal'],
];
/** Pairs whose difference is what writing Avro or Protobuf (framed) costs over writing JSON. */
const SCHEMA_PAIRS: ReadonlyArray<readonly [string, CaseName, CaseName]> = [
  ['avro', 'process>avro', 'process'],
  ['protobuf', 'process>protobuf', 'process'],
];

/** One message through one case; a schema case returns the promise the pipeline would await. */
type Run = () => void | Promise<void>;
const ADDRESSES = (): string[] => [DESTINATION];

interface Sample {
  cpuUs: number;
  wallUs: number;
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

async function main(): Promise<void> {
  const sodium = await new SodiumProvider().ready();
  const keyring = Keyring.from([generateKeyEntry(sodium, 'devices', 'symmetric'), generateKeyEntry(sodium, 'consumers', 'symmetric')]);
  const sealer = new EnvelopeSealer(sodium);
  // What a device sends: the document sealed with its key, bound to the topic it publishes on.
  const envelope = Buffer.from(sealer.seal(DOCUMENT_BYTES, { keyring, keyName: 'devices', topic: TOPIC }));
  const transformer = new PayloadTransformer(sealer, { current: () => keyring });
  const program = compileTypicalProcess();
  const decrypt = transformSchema.parse({ mode: 'decrypt', sourceKey: 'devices' });
  const reencrypt = transformSchema.parse({ mode: 'reencrypt', sourceKey: 'devices', destinationKey: 'consumers' });
  const rules: Readonly<Record<CaseName, TransformingRule>> = {
    process: { transform: transformSchema.parse({ mode: 'passthrough' }), process: program },
    open: { transform: decrypt },
    'open+process': { transform: decrypt, process: program },
    'open+seal': { transform: reencrypt },
    'open+process+seal': { transform: reencrypt, process: program },
    'process>avro': { transform: transformSchema.parse({ mode: 'passthrough' }), ...typicalSchemaRule('avro') },
    'process>protobuf': { transform: transformSchema.parse({ mode: 'passthrough' }), ...typicalSchemaRule('protobuf') },
  };
  const context = contextOf('bench');
  const runs = Object.fromEntries(
    CASE_NAMES.map((name) => {
      // What the pipeline does per message and rule: prepare, write to each destination, wipe.
      const message = messageOf(name.startsWith('process') ? DOCUMENT_BYTES : envelope);
      const write = (prepared: PreparedPayload): void => {
        if (prepared.filteredBy !== undefined) throw new Error(`the benchmark message was filtered by ${prepared.filteredBy}`);
        prepared.forAddress(DESTINATION);
        prepared.dispose();
      };
      // Schema rules go through prepareWithSchema, awaited as the pipeline awaits it.
      const run: Run = usesSchema(rules[name])
        ? async () => write(await transformer.prepareWithSchema(rules[name], message, context, ADDRESSES))
        : () => write(transformer.prepare(rules[name], message, context));
      return [name, run];
    }),
  ) as Record<CaseName, Run>;

  const loadBefore = loadavg();
  console.error(`warming up (${WARM_UP_MESSAGES} messages per case), then ${ROUNDS} rounds of ${MESSAGES} messages per case`);
  for (const name of CASE_NAMES) await measure(runs[name], WARM_UP_MESSAGES);
  const samples = Object.fromEntries(CASE_NAMES.map((name) => [name, [] as Sample[]])) as Record<CaseName, Sample[]>;
  for (let round = 0; round < ROUNDS; round++) {
    // A different first case each round, so no case always runs right after the same one.
    for (let i = 0; i < CASE_NAMES.length; i++) {
      const name = CASE_NAMES[(i + round) % CASE_NAMES.length];
      samples[name].push(await measure(runs[name], MESSAGES));
    }
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
  const loadAfter = loadavg();

  const cases = CASE_NAMES.map((name) => ({ name, cpuUs: spread(samples[name].map((s) => s.cpuUs)), wallUs: spread(samples[name].map((s) => s.wallUs)) }));
  const paired = (pairs: typeof PAIRS) =>
    pairs
      .filter(([, withSteps, without]) => CASE_NAMES.includes(withSteps) && CASE_NAMES.includes(without))
      .map(([label, withSteps, without]) => ({
        label,
        withSteps,
        without,
        cpuUs: spread(samples[withSteps].map((s, round) => s.cpuUs - samples[without][round].cpuUs)),
      }));
  const stepsAdd = paired(PAIRS);
  const schemasAdd = paired(SCHEMA_PAIRS);

  console.log(
    `typical rule on ${DOCUMENT_BYTES.length} B JSON (filter on 1 field, rename 2, compute 2, JSON out); ` +
      `${ROUNDS} rounds x ${MESSAGES} messages per case; µs per message, median (min-max) over the rounds\n`,
  );
  console.log(
    markdownTable(
      ['case', 'µs cpu/msg', 'range', 'µs wall/msg', 'range'],
      cases.map((c) => [c.name, fixed(c.cpuUs.median), range(c.cpuUs), fixed(c.wallUs.median), range(c.wallUs)]),
      1,
    ),
  );
  if (stepsAdd.length > 0) console.log('\nwhat the steps add to the worker CPU per message (paired per round):');
  for (const s of stepsAdd) {
    const verdict = s.cpuUs.median <= TARGET_STEPS_US ? 'met' : 'MISSED';
    console.log(
      `  ${s.label.padEnd(9)}  ${s.withSteps} - ${s.without}: ${fixed(s.cpuUs.median)} µs (${range(s.cpuUs)}); target <= ${TARGET_STEPS_US} µs: ${verdict}`,
    );
  }
  if (schemasAdd.length > 0) console.log('\nwhat writing Avro or Protobuf (Confluent-framed, schema resolved) costs over JSON out (paired per round):');
  for (const s of schemasAdd) console.log(`  ${s.label.padEnd(9)}  ${s.withSteps} - ${s.without}: ${fixed(s.cpuUs.median)} µs (${range(s.cpuUs)})`);
  const cores = cpus();
  console.log(
    `\n${cores.length} cores, ${cores[0]?.model.trim() ?? 'unknown'}, Node ${process.version}; load average (1/5/15 min) ${loads(loadBefore)} before, ${loads(loadAfter)} after`,
  );

  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const report = {
    benchmark: 'transform: typical rule through PayloadTransformer',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    loadAverage: { before: loadBefore, after: loadAfter },
    documentBytes: DOCUMENT_BYTES.length,
    rule: TYPICAL_PROCESS,
    rounds: ROUNDS,
    messagesPerRound: MESSAGES,
    targetStepsUs: TARGET_STEPS_US,
    cases: cases.map((c) => ({ ...c, samples: samples[c.name] })),
    stepsAdd,
    schemasAdd,
  };
  writeFileSync(join(dir, 'transform.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${join(dir, 'transform.json')}`);
}

/** CPU of the whole process (GC threads included: the worker pays for them too) and wall time, per message. */
async function measure(run: Run, messages: number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) {
    const pending = run();
    if (pending) await pending;
  }
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / messages, wallUs: wallNs / 1000 / messages };
}

function spread(values: readonly number[]): Spread {
  const sorted = sortedCopy(values);
  return { median: percentile(sorted, 50), min: sorted[0], max: sorted[sorted.length - 1] };
}

function fixed(us: number): string {
  return us.toFixed(2);
}

function range(s: Spread): string {
  return `${fixed(s.min)}-${fixed(s.max)}`;
}

function loads(values: readonly number[]): string {
  return values.map((v) => v.toFixed(2)).join('/');
}

function selectedCases(): readonly CaseName[] {
  const text = process.env.BENCH_CASES;
  if (text === undefined || text === '') return ALL_CASES;
  const names = text.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !ALL_CASES.includes(n as CaseName));
  if (unknown.length > 0) throw new Error(`BENCH_CASES: no case ${unknown.join(', ')} (cases: ${ALL_CASES.join(', ')})`);
  return ALL_CASES.filter((n) => names.includes(n));
}

function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return value;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
