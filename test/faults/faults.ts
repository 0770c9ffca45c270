/**
 * Fault-injection suite of the MQTT -> Kafka bridge (see test/faults/README.md).
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register test/faults/faults.ts [--short] [--only a,b]
 *
 * Starts its own Kafka (harness KafkaBroker, never $KAFKA_BROKERS: the scenarios restart and
 * freeze it) and, per scenario, its own Mosquitto (persistence on) and a bridge worker child
 * process; streams numbered messages at QoS 1 and QoS 2 through them while a fault happens;
 * prints a table (sent, received, lost, duplicated, order violations) and writes
 * test/faults/results/latest.json.
 *
 * What QoS 2 guarantees here: the bridge sends PUBREC only once Kafka confirmed the record (or its
 * dead letter), so a QoS 2 message is never lost, but the hand-off into Kafka is AT-LEAST-ONCE,
 * not exactly-once: a worker that dies (or loses its connection) after Kafka's confirmation and
 * before PUBREC reached Mosquitto gets the PUBLISH again and writes it again. Duplicates are
 * therefore measured and printed for QoS 2 as for QoS 1, and are not a failure.
 *
 * Exit code: 0 when no row lost anything; 1 when a QoS 1 or QoS 2 row lost messages (the only
 * hard assertion); 2 when a scenario could not be measured (error, watchdog); 3 when the whole
 * run hit its time limit; 130 on SIGINT/SIGTERM.
 */
import * as path from 'node:path';
import { KafkaBroker } from '../harness/kafka.broker';
import { FULL, Profile, SHORT } from './lib/profile';
import { formatNotes, formatTable, passed, writeJson } from './lib/report';
import { runScenario } from './lib/run-scenario';
import { ScenarioReport } from './lib/scenario';
import { SCENARIOS } from './scenarios';

const RESULTS_DIR = path.join(__dirname, 'results');
const log = (line: string) => process.stdout.write(`${line}\n`);

function parseArgs(argv: string[]): { profile: Profile; only?: Set<string> } {
  let profile = FULL;
  let only: Set<string> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--short') profile = SHORT;
    else if (arg === '--full') profile = FULL;
    else if (arg === '--only') only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (arg.startsWith('--only=')) only = new Set(arg.slice(7).split(',').filter(Boolean));
    else {
      log(`usage: faults.ts [--short] [--only ${SCENARIOS.map((s) => s.name).join(',')}]`);
      process.exit(arg === '--help' || arg === '-h' ? 0 : 64);
    }
  }
  for (const name of only ?? []) {
    if (!SCENARIOS.some((s) => s.name === name)) throw new Error(`unknown scenario ${name}`);
  }
  return { profile, only };
}

async function main(): Promise<number> {
  const { profile, only } = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const reports: ScenarioReport[] = [];
  let kafka: KafkaBroker | undefined;
  let kafkaVersion: string | undefined;
  const outFile = path.join(RESULTS_DIR, 'latest.json');
  const finish = (aborted?: string) => {
    log('');
    log(formatTable(reports));
    log('');
    log(formatNotes(reports));
    writeJson(outFile, { profile, startedAt, kafkaVersion, aborted }, reports);
    log(`\nresults: ${path.relative(process.cwd(), outFile)}; worker logs: ${path.relative(process.cwd(), RESULTS_DIR)}/<scenario>.worker.log`);
  };

  // Whatever way the run ends, the exit hooks kill what is left: worker children (lib/worker.ts),
  // Kafka and Mosquitto (harness). A signal has to go through process.exit() for them to run.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`\n${sig}: stopping; the exit hooks kill the worker children and brokers`);
      process.exit(130);
    });
  }
  const runWatchdog = setTimeout(() => {
    log(`\nRUN TIME LIMIT: ${profile.runTimeoutMs / 1000} s exceeded; reporting what was measured and exiting`);
    try {
      finish(`run exceeded ${profile.runTimeoutMs} ms`);
    } finally {
      process.exit(3);
    }
  }, profile.runTimeoutMs);
  runWatchdog.unref();

  log(`fault suite, ${profile.name} profile: ${profile.ratePerSecond} msg/s per QoS, results in ${path.relative(process.cwd(), RESULTS_DIR)}`);
  try {
    const t = Date.now();
    kafka = await KafkaBroker.start({ useEnv: false });
    kafkaVersion = kafka.version;
    log(`Kafka ${kafka.version} on ${kafka.brokers.join(',')} (pid ${kafka.pid}) started in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    for (const scenario of SCENARIOS) {
      if (only && !only.has(scenario.name)) continue;
      log(`\n== ${scenario.name}: ${scenario.title}`);
      const report = await runScenario(scenario, { kafka, profile, resultsDir: RESULTS_DIR, log });
      reports.push(report);
      for (const r of report.rows) {
        log(
          `  => q${r.qos}: sent ${r.sent}, received ${r.received}, lost ${r.lost}, duplicated ${r.duplicated}, order violations ${r.orderViolations}, ${r.seconds} s`,
        );
      }
      if (report.error) log(`  => ERROR ${report.error.split('\n')[0]}`);
    }
  } finally {
    clearTimeout(runWatchdog);
    await kafka?.destroy().catch((e: Error) => log(`stopping Kafka: ${e.message}`));
  }
  finish();
  const { lossFree, complete } = passed(reports);
  if (!lossFree) {
    log('\nFAILED: messages acknowledged to a QoS 1/2 publisher never reached Kafka (see "lost")');
    return 1;
  }
  if (!complete) {
    log('\nFAILED: a scenario could not be measured (see ERROR)');
    return 2;
  }
  log(`\nPASSED: no loss in ${reports.length} scenario(s) (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`fault suite crashed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(2);
  },
);
