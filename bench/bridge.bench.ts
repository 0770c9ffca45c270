/**
 * Throughput, latency and memory benchmark of the MQTT -> Kafka bridge (see bench/README.md).
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/bridge.bench.ts
 *
 * Starts one Mosquitto and one Kafka (or reuses MQTT_URL / KAFKA_BROKERS), measures the two
 * limits (bare MQTT subscriber, bare Kafka producer), then every case of bench/lib/cases.ts with
 * the worker in a child process, then the at-most-once ceiling bridge per payload size, then
 * latency at half the QoS 1 256 B rate. Prints a table with the same-run comparisons of
 * bench/lib/comparisons.ts and writes bench/results/bridge-<timestamp>.json and
 * bench/results/latest.json.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka } from 'kafkajs';
import { kafkaClientConfig, kafkaConnectionSchema, useProduceEncoding } from '@app/kafka';
import { startBrokers, Brokers } from './lib/brokers';
import { runBridgeCase } from './lib/bridge-run';
import {
  BenchCase,
  benchKafkaEncoding,
  benchMqttHeaders,
  benchWorkers,
  LATENCY_BASE_CASE,
  MESSAGES_BY_SIZE,
  SCALE_CASE,
  scaled,
  selectedCases,
  sizeLabel,
} from './lib/cases';
import { measureCeiling } from './lib/ceiling';
import { compareRuns } from './lib/comparisons';
import { formatSummary, summarizeProfile } from './lib/cpu-profile';
import { runLatency } from './lib/latency';
import { measureLimitA, measureLimitB, measurePublisherAlone } from './lib/limits';
import { machineInfo } from './lib/machine';
import { fixedPayload } from './lib/payload';
import { Publisher, topicsUnder } from './lib/publisher';
import { formatReport, limitFor, withDerived, writeReport } from './lib/report';
import { BenchReport, LatencyResult, RateResult, TARGETS } from './lib/results';
import { RunEnv, mqttPrefix } from './lib/run-env';
import { runSharedCase } from './lib/shared-run';
import { workerMaxBatchMessages, workerMaxInFlight } from './lib/bridge-config';
import { rssBaselines } from './lib/rss-baseline';
import { workerExecArgv } from '../test/harness/worker/worker-handle';

const RESULTS_DIR = path.join(__dirname, 'results');
const started = performance.now();

function log(line: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function describe(r: RateResult): string {
  const pub = r.publisherRate ? `, publisher ${Math.round(r.publisherRate).toLocaleString('en-US')} msg/s` : '';
  const ratio = r.ratio !== undefined ? `, ratio ${r.ratio.toFixed(2)}` : '';
  return `${r.name}: ${r.arrived}/${r.messages} in ${r.seconds.toFixed(2)} s = ${Math.round(r.rate).toLocaleString('en-US')} msg/s${ratio}${pub}`;
}

const cleanups: Array<() => Promise<void>> = [];
let cleaningUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch((e: Error) => log(`cleanup: ${e.message}`));
  })();
  return cleaningUp;
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg();
  const cases = selectedCases();
  const sizes = [...new Set(cases.map((c) => c.payloadBytes))];
  const errors: string[] = [];
  const runs: RateResult[] = [];
  const profiles: string[] = [];
  const profileDir = process.env.BENCH_CPU_PROF
    ? process.env.BENCH_CPU_PROF === '1'
      ? path.join(os.tmpdir(), `bridge-bench-prof-${startedAt.replace(/[:.]/g, '-')}`)
      : process.env.BENCH_CPU_PROF
    : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const connections = envNumber('BENCH_PUBLISHERS', 4);
  const partitions = envNumber('BENCH_PARTITIONS', 3);
  const latencySeconds = envNumber('BENCH_LATENCY_SECONDS', 5);
  // BENCH_ROUNDS > 1 repeats each size's bridge cases and ceiling; comparisons pair them round by round.
  const rounds = Math.floor(envNumber('BENCH_ROUNDS', 1));

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-bench-'));
  cleanups.push(async () => fs.rmSync(tmpDir, { recursive: true, force: true }));
  log('starting brokers');
  const brokers: Brokers = await startBrokers(log);
  cleanups.push(() => brokers.stop());

  // Limit B writes in this process: with the same request encoding as the bridge cases.
  useProduceEncoding(benchKafkaEncoding() === 'bridge');
  const kafka = new Kafka(kafkaClientConfig(kafkaConnectionSchema.parse({ brokers: brokers.kafkaBrokers, clientId: 'bench' })));
  const admin = kafka.admin();
  await admin.connect();
  const runId = randomBytes(3).toString('hex');
  const createdTopics: string[] = [];
  cleanups.push(async () => {
    // On a reused cluster, leave nothing behind; a broker started here is deleted with its dir.
    if (!brokers.pids.kafka && createdTopics.length) await admin.deleteTopics({ topics: createdTopics }).catch(() => undefined);
    await admin.disconnect();
  });
  const publisher = await Publisher.connect(brokers.mqttUrl, connections, `bench-pub-${runId}`);
  cleanups.push(() => publisher.close());
  const env: RunEnv = {
    mqttUrl: brokers.mqttUrl,
    kafkaBrokers: brokers.kafkaBrokers,
    kafka,
    admin,
    publisher,
    runId,
    partitions,
    brokerPids: brokers.pids,
    tmpDir,
    createdTopics,
  };

  const attempt = async <T>(label: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      const message = `${label}: ${error instanceof Error ? error.message : String(error)}`;
      errors.push(message.split('\n')[0]);
      log(`FAILED ${message}`);
      return undefined;
    }
  };

  // Warm the publisher's code paths (JIT) so the first measured run is not penalised.
  log('warming up the publisher');
  const warm = fixedPayload(256);
  await publisher.publishAll({ count: 5_000, qos: 1, topics: topicsUnder(mqttPrefix(env, 'warmup')), payload: () => warm });

  for (const size of sizes) {
    const limitMessages = scaled(MESSAGES_BY_SIZE[size] ?? Math.max(...cases.filter((c) => c.payloadBytes === size).map((c) => c.messages)));
    log(`--- ${sizeLabel(size)} payloads: limits with ${limitMessages} messages`);
    for (const measure of [
      () => measurePublisherAlone(env, 1, size, limitMessages),
      () => measureLimitA(env, 1, size, limitMessages),
      () => measureLimitB(env, size, limitMessages),
    ]) {
      const measured = await attempt(`limits ${sizeLabel(size)}`, measure);
      if (measured) {
        const r = withDerived(measured);
        runs.push(r);
        log(describe(r));
      }
    }
    const { min } = limitFor(runs, size);
    // The reference the bridge's cost is read against: as many messages as the size's QoS 1 case.
    const qos1 = cases.find((c) => c.payloadBytes === size && c.qos === 1);
    const ceilingMessages = scaled(qos1?.messages ?? MESSAGES_BY_SIZE[size] ?? limitMessages);
    const steps: Array<{ label: string; run: (round?: number) => Promise<void> }> = [
      ...cases
        .filter((x) => x.payloadBytes === size && x.name !== SCALE_CASE)
        .map((c) => ({
          label: `bridge ${c.name}`,
          run: async (round?: number) => {
            const messages = scaled(c.messages);
            log(`bridge ${c.name}${round ? ` round ${round}` : ''}: ${messages} messages, QoS ${c.qos}, ${c.payloadBytes} B`);
            const out = await attempt(`bridge ${c.name}`, () => runBridgeCase(env, c, messages, { profileDir, round }));
            if (!out) return;
            const r: RateResult = withDerived({ ...out.result, ratio: min ? out.result.rate / min : undefined });
            runs.push(r);
            if (out.profile) profiles.push(out.profile);
            log(describe(r));
          },
        })),
      // The scaling case as two steps, so the rounds' rotation also alternates which of them runs first.
      ...cases
        .filter((x) => x.payloadBytes === size && x.name === SCALE_CASE)
        .flatMap((c) =>
          [1, benchWorkers()].map((workers) => ({
            label: `bridge ${c.name} ${workers}w`,
            run: async (round?: number) => {
              const messages = scaled(c.messages);
              log(`bridge ${c.name} ${workers} worker(s)${round ? ` round ${round}` : ''}: ${messages} messages, QoS ${c.qos}, ${c.payloadBytes} B`);
              const out = await attempt(`bridge ${c.name} ${workers}w`, () => runSharedCase(env, c, workers, messages, round));
              if (!out) return;
              const r = withDerived({ ...out, ratio: min ? out.rate / min : undefined });
              runs.push(r);
              log(describe(r));
            },
          })),
        ),
      // kafkajs always; librdkafka too when BENCH_RDKAFKA_MODULE names a built @confluentinc/kafka-javascript.
      ...(process.env.BENCH_RDKAFKA_MODULE ? (['kafkajs', 'rdkafka'] as const) : (['kafkajs'] as const)).map((client) => ({
        label: `ceiling ${client} ${sizeLabel(size)}`,
        run: async (round?: number) => {
          log(`ceiling ${client} ${sizeLabel(size)}${round ? ` round ${round}` : ''}: ${ceilingMessages} messages, QoS 1`);
          const ceiling = await attempt(`ceiling ${client} ${sizeLabel(size)}`, () => measureCeiling(env, 1, size, ceilingMessages, round, client));
          if (!ceiling) return;
          const r = withDerived({ ...ceiling, ratio: min ? ceiling.rate / min : undefined });
          runs.push(r);
          log(describe(r));
        },
      })),
    ];
    // Several rounds start from a different step each time, so no case always runs first or last.
    for (let round = 1; round <= rounds; round++) {
      const shift = (round - 1) % steps.length;
      for (const step of [...steps.slice(shift), ...steps.slice(0, shift)]) await step.run(rounds > 1 ? round : undefined);
    }
  }

  let latency: LatencyResult | undefined;
  const base = runs.find((r) => r.kind === 'bridge' && r.name === LATENCY_BASE_CASE);
  const baseCase: BenchCase | undefined = cases.find((c) => c.name === LATENCY_BASE_CASE);
  if (base && baseCase && base.rate > 0) {
    // BENCH_LATENCY_RATE fixes the offered rate (to compare runs); default: half the measured maximum.
    const offeredRate = envNumber('BENCH_LATENCY_RATE', Math.round(base.rate / 2));
    log(`latency: ${LATENCY_BASE_CASE} at ${offeredRate} msg/s for ${latencySeconds} s`);
    latency = await attempt('latency', () =>
      runLatency(env, baseCase, { offeredRate, seconds: latencySeconds, warmupMs: 500, warmupMessages: scaled(20_000), profileDir }),
    );
    if (latency?.profile) profiles.push(latency.profile);
    if (latency) log(`latency: p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms, p99.9 ${latency.p999Ms.toFixed(2)} ms`);
  } else {
    log(`latency: skipped (no measured ${LATENCY_BASE_CASE} rate)`);
  }

  log('stopping');
  await cleanup();
  const baselines = rssBaselines();

  const report: BenchReport = {
    startedAt,
    durationSeconds: (performance.now() - started) / 1000,
    machine: machineInfo({
      kafkaVersion: brokers.kafkaVersion,
      mosquittoVersion: brokers.mosquittoVersion,
      kafkaBrokers: brokers.kafkaBrokers.join(','),
      mqttUrl: brokers.mqttUrl,
      idleNodeRssMb: baselines.nodeMb,
      idleTsNodeRssMb: baselines.tsNodeMb,
    }),
    settings: {
      publisherConnections: connections,
      publisherWindows: publisher.windows,
      mqttTopics: 100,
      kafkaPartitions: partitions,
      scale: Number(process.env.BENCH_SCALE ?? 1),
      rounds,
      workerMaxInFlight: workerMaxInFlight(),
      kafkaMaxBatchMessages: workerMaxBatchMessages(),
      mosquitto: brokers.pids.mosquitto ? 'test harness configuration (MosquittoBroker.start())' : 'external (MQTT_URL)',
      cpuProfile: profileDir ?? false,
      workerExecArgv: workerExecArgv(),
      worker: process.env.BENCH_WORKER === 'compiled' ? 'compiled (tsc, node)' : 'ts-node',
      kafkaNoDelayExperiment: process.env.BENCH_KAFKA_NODELAY === '1',
      kafkaEncoding: benchKafkaEncoding(),
      mqttHeaders: benchMqttHeaders(),
      scaleWorkers: cases.some((c) => c.name === SCALE_CASE) ? [1, benchWorkers()] : undefined,
    },
    targets: TARGETS,
    runs,
    latency,
    comparisons: compareRuns(runs),
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    profiles: profiles.length ? profiles : undefined,
    errors,
  };
  const file = writeReport(report, RESULTS_DIR);
  process.stdout.write(`\n${formatReport(report)}\n\nresults: ${path.relative(process.cwd(), file)} (and bench/results/latest.json)\n`);
  for (const profile of profiles) process.stdout.write(`\n${formatSummary(profile, summarizeProfile(profile, 20))}\n`);
  return errors.length ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping brokers and workers`);
    void cleanup().finally(() => process.exit(130));
  });
}
// A hung run must not hold the machine: stop everything after BENCH_TIMEOUT_SECONDS (default 360).
const watchdog = setTimeout(
  () => {
    log('timed out: stopping brokers and workers');
    void cleanup().finally(() => process.exit(2));
  },
  envNumber('BENCH_TIMEOUT_SECONDS', 360) * 1000,
);
watchdog.unref();

main().then(
  (code) => {
    process.exitCode = code;
    clearTimeout(watchdog);
  },
  (error: unknown) => {
    log(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void cleanup().finally(() => process.exit(1));
  },
);
