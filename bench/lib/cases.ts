import { MqttHeaderMode } from '@app/kafka';
import { benchMqttHeaders } from './bench-mqtt-headers';
import { reencryptCase } from './reencrypt-case';

export { benchMqttHeaders };

/**
 * The bridge cases the benchmark runs. Each entry is one worker configuration measured for
 * throughput; adding a case (e.g. a decrypt-then-re-encrypt transform) means adding one entry.
 */

/** Where a case's traffic goes; filled in by the benchmark for every run. */
export interface CaseTopics {
  /** MQTT topic prefix: the publisher writes to `<mqttPrefix>/d00` .. `<mqttPrefix>/d99`. */
  readonly mqttPrefix: string;
  /** The Kafka topic the case's rule must write to (created beforehand, counted afterwards). */
  readonly kafkaTopic: string;
}

export interface BenchCase {
  /** Short id, also used in topic names: letters, digits and '-'. */
  readonly name: string;
  /** QoS of the publishes and of the rule's subscription. */
  readonly qos: 0 | 1;
  readonly payloadBytes: number;
  /** Messages per run, chosen so a run takes a few seconds; scaled by BENCH_SCALE. */
  readonly messages: number;
  /** The `rules:` list of the worker configuration (YAML, not indented), for these topics. */
  readonly rulesYaml: (topics: CaseTopics) => string;
  /**
   * Turns the plain benchmark payload into what the publisher sends (e.g. an encrypted envelope
   * bound to `mqttTopic` for a decrypting rule). Default: sent as is.
   */
  readonly encodePayload?: (plain: Buffer, mqttTopic: string) => Buffer;
  /** Extra environment for the worker process (e.g. key file locations for a crypto rule). */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /** Extra top-level sections of the worker configuration (YAML, e.g. `keys:`), given the scratch dir. */
  readonly configYaml?: (dir: string) => string;
  /** Runs once before the case's worker starts (e.g. writes a key file into the scratch `dir`). */
  readonly prepare?: (dir: string) => Promise<void>;
  /** The worker's `kafka.producer.client`; default BENCH_KAFKA_CLIENT (kafkajs). */
  readonly kafkaClient?: 'kafkajs' | 'librdkafka';
  /** The worker's `kafka.producer.encoding`; default BENCH_KAFKA_ENCODING (bridge). */
  readonly kafkaEncoding?: KafkaEncoding;
  /** Compared to min(limit A, limit B) at the same payload size; false: figures only. */
  readonly hasRatioTarget?: boolean;
}

/**
 * One rule, one Kafka destination, payload untouched; key = MQTT topic (the default). With
 * `shareGroup` the rule subscribes as `$share/<group>/...`, so several workers split the stream.
 */
export function passthroughRules(qos: 0 | 1, headers?: MqttHeaderMode, shareGroup?: string): (topics: CaseTopics) => string {
  return ({ mqttPrefix, kafkaTopic }) =>
    [
      '- name: passthrough',
      `  filters: [${JSON.stringify(`${mqttPrefix}/{device}`)}]`,
      ...(shareGroup ? [`  shareGroup: ${JSON.stringify(shareGroup)}`] : []),
      `  qos: ${qos}`,
      '  destinations:',
      '    - type: kafka',
      `      topic: ${JSON.stringify(kafkaTopic)}`,
      `      mqttHeaders: ${headers ?? benchMqttHeaders()}`,
    ].join('\n');
}

/**
 * Messages of the limit runs per payload size (limit A, limit B and the publisher alone take
 * 1–3 s with these on a 2-core machine).
 */
export const MESSAGES_BY_SIZE: Readonly<Record<number, number>> = {
  256: 100_000,
  1024: 60_000,
  16384: 12_000,
};

/** Messages of each bridge case: ~3–8 s per case with the bridge as measured on a 2-core machine. */
const CASE_MESSAGES: Readonly<Record<string, number>> = {
  'qos0-256b': 100_000,
  'qos1-256b': 80_000,
  // Same count as qos1-256b: the cases compared with it run as long or longer.
  'qos1-256b-reencrypt': 80_000,
  'qos1-256b-minimal': 80_000,
  'qos1-256b-librdkafka': 80_000,
  'qos1-256b-kafkajs-encoding': 80_000,
  // Each of its runs (1 worker, then several) sends this many.
  'qos1-256b-scale': 80_000,
  'qos0-1k': 50_000,
  'qos1-1k': 40_000,
  // ~1,000 msg/s: the worker's batches exceed Kafka's 1 MB limit at this size (see docs/performance.md).
  'qos0-16k': 6_000,
  'qos1-16k': 6_000,
};

function passthrough(qos: 0 | 1, payloadBytes: number): BenchCase {
  const name = `qos${qos}-${sizeLabel(payloadBytes)}`;
  return {
    name,
    qos,
    payloadBytes,
    messages: CASE_MESSAGES[name] ?? MESSAGES_BY_SIZE[payloadBytes],
    rulesYaml: passthroughRules(qos),
    hasRatioTarget: qos === 1,
  };
}

export const PAYLOAD_SIZES = [256, 1024, 16384] as const;

/** Passthrough with `mqttHeaders` fixed to `mode` whatever BENCH_MQTT_HEADERS says: issue 19's question of the default. */
function passthroughWithHeaders(qos: 0 | 1, payloadBytes: number, mode: MqttHeaderMode): BenchCase {
  const name = `qos${qos}-${sizeLabel(payloadBytes)}-${mode}`;
  return {
    name,
    qos,
    payloadBytes,
    messages: CASE_MESSAGES[name] ?? MESSAGES_BY_SIZE[payloadBytes],
    rulesYaml: passthroughRules(qos, mode),
    hasRatioTarget: false,
  };
}

export const CASES: readonly BenchCase[] = [
  ...PAYLOAD_SIZES.flatMap((size) => [passthrough(0, size), passthrough(1, size)]),
  // Right after qos1-256b within the 256 B group, so the pairs of bench/lib/comparisons.ts run close together.
  reencryptCase('qos1-256b-reencrypt', 1, 256, CASE_MESSAGES['qos1-256b-reencrypt']),
  passthroughWithHeaders(1, 256, 'minimal'),
  // Issue 19 item 2: the same passthrough written by librdkafka, beside the run's client.
  { ...passthrough(1, 256), name: 'qos1-256b-librdkafka', messages: CASE_MESSAGES['qos1-256b-librdkafka'], kafkaClient: 'librdkafka', hasRatioTarget: false },
  // The same passthrough with kafkajs encoding its produce requests itself: what the bridge's encoder saves.
  {
    ...passthrough(1, 256),
    name: 'qos1-256b-kafkajs-encoding',
    messages: CASE_MESSAGES['qos1-256b-kafkajs-encoding'],
    kafkaClient: 'kafkajs',
    kafkaEncoding: 'kafkajs',
    hasRatioTarget: false,
  },
];

export type KafkaEncoding = 'bridge' | 'kafkajs';

/**
 * BENCH_KAFKA_ENCODING: who encodes kafkajs's produce requests in the bridge cases, limit B and
 * the ceiling (`kafka.producer.encoding`: bridge, the default, or kafkajs).
 */
export function benchKafkaEncoding(): KafkaEncoding {
  const value = process.env.BENCH_KAFKA_ENCODING || 'bridge';
  if (value !== 'bridge' && value !== 'kafkajs') throw new Error(`BENCH_KAFKA_ENCODING must be bridge or kafkajs, got ${value}`);
  return value;
}

/** BENCH_KAFKA_CLIENT: the bridge cases' `kafka.producer.client` (kafkajs, the default, or librdkafka). */
export function benchKafkaClient(): string {
  const value = process.env.BENCH_KAFKA_CLIENT || 'kafkajs';
  if (!['librdkafka', 'kafkajs'].includes(value)) throw new Error(`BENCH_KAFKA_CLIENT must be librdkafka or kafkajs, got ${value}`);
  return value;
}

/**
 * Opt-in (BENCH_CASES or BENCH_WORKERS, never in the default run, which it would lengthen by two
 * worker runs): the `qos1-256b` load through 1 worker and then through `benchWorkers()` workers
 * on one shared subscription (bench/lib/shared-run.ts). The single worker subscribes through the
 * share group too, so the worker count is the only difference between the two runs.
 */
export const SCALE_CASE = 'qos1-256b-scale';

const OPT_IN_CASES: readonly BenchCase[] = [
  {
    name: SCALE_CASE,
    qos: 1,
    payloadBytes: 256,
    messages: CASE_MESSAGES[SCALE_CASE],
    rulesYaml: passthroughRules(1, undefined, 'bench'),
    hasRatioTarget: false,
  },
];

/** Workers of the scaling case's second run (BENCH_WORKERS, default 2). */
export function benchWorkers(): number {
  const raw = process.env.BENCH_WORKERS;
  if (raw === undefined || raw === '') return 2;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 2 || value > 16) throw new Error(`BENCH_WORKERS must be an integer 2..16, got ${raw}`);
  return value;
}

/** The case whose measured rate sets the latency run's offered load (half of it). */
export const LATENCY_BASE_CASE = 'qos1-256b';

export function sizeLabel(bytes: number): string {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024}k` : `${bytes}b`;
}

/** `BENCH_SCALE` (default 1) multiplies every message count, e.g. 0.2 for a quick smoke run. */
export function scaled(messages: number): number {
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  return Math.max(100, Math.round(messages * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/**
 * `BENCH_CASES=qos1-256b,qos0-1k` runs only those cases (limits still run for their sizes).
 * Opt-in cases run only when named there, or (the scaling case) when BENCH_WORKERS is set.
 */
export function selectedCases(): BenchCase[] {
  const only = process.env.BENCH_CASES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = [...CASES, ...OPT_IN_CASES];
  if (only?.length) {
    const cases = known.filter((c) => only.includes(c.name));
    if (cases.length !== only.length) {
      const unknown = only.filter((n) => !known.some((c) => c.name === n));
      throw new Error(`BENCH_CASES: unknown case(s) ${unknown.join(', ')}; known: ${known.map((c) => c.name).join(', ')}`);
    }
    return cases;
  }
  // A bad BENCH_WORKERS fails here, before brokers start, rather than after the limits.
  benchWorkers();
  return process.env.BENCH_WORKERS ? [...known] : [...CASES];
}
