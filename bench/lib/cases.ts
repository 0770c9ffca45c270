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
  /** Compared to min(limit A, limit B) at the same payload size; false: figures only. */
  readonly hasRatioTarget?: boolean;
}

/** One rule, one Kafka destination, payload untouched; key = MQTT topic (the default). */
export function passthroughRules(qos: 0 | 1, headers?: MqttHeaderMode): (topics: CaseTopics) => string {
  return ({ mqttPrefix, kafkaTopic }) =>
    [
      '- name: passthrough',
      `  filters: [${JSON.stringify(`${mqttPrefix}/{device}`)}]`,
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
];

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

/** `BENCH_CASES=qos1-256b,qos0-1k` runs only those cases (limits still run for their sizes). */
export function selectedCases(): BenchCase[] {
  const only = process.env.BENCH_CASES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const cases = only?.length ? CASES.filter((c) => only.includes(c.name)) : [...CASES];
  if (only?.length && cases.length !== only.length) {
    const unknown = only.filter((n) => !CASES.some((c) => c.name === n));
    throw new Error(`BENCH_CASES: unknown case(s) ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
  }
  return cases;
}
