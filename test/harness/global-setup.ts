import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaBroker, externalBrokersFromEnv, type KafkaBrokerState } from './kafka.broker';
import { cmdline, isAlive, killHard, realProcess, signal, sweepStaleDirs } from './proc';
import { DEFAULT_KAFKA_STATE_FILE } from './shared-kafka';

/**
 * jest globalSetup of the e2e project (runs once, in jest's parent process, before any worker is
 * forked): starts the shared single-node Kafka unless the user set KAFKA_BROKERS, exports it to
 * the workers via process.env and records it in a state file for `sharedKafka()`.
 */
export default async function globalSetup(): Promise<void> {
  // A previous run in this same process (jest --watch) leaves our own export behind.
  if (process.env.KAFKA_BROKERS && process.env.KAFKA_BROKERS === process.env.BRIDGE_E2E_KAFKA_SHARED) {
    delete process.env.KAFKA_BROKERS;
  }
  if (externalBrokersFromEnv()) return; // user-provided cluster: nothing to start

  await sweepStaleDirs(); // broker dirs left by crashed earlier runs
  removeStalePerRunStateFiles();
  const stateFile = await chooseStateFile();
  const started = Date.now();
  const broker = await KafkaBroker.start({ useEnv: false, stateFile });
  const brokers = broker.brokers.join(',');
  process.env.KAFKA_BROKERS = brokers;
  process.env.BRIDGE_E2E_KAFKA_SHARED = brokers;
  process.env.BRIDGE_E2E_KAFKA_STATE = stateFile;
  realProcess().once('exit', () => killLeftover(stateFile));
  if (process.env.HARNESS_VERBOSE) {
    console.log(`\n[harness] Kafka ${broker.version} on ${brokers} ready in ${Date.now() - started} ms (pid ${broker.pid}, ${broker.dir})`);
  }
}

/**
 * The default state file, after cleaning up what a crashed earlier run left there; a per-run file
 * when another live jest run still owns the default one (so two runs never fight over a broker).
 */
async function chooseStateFile(): Promise<string> {
  const file = DEFAULT_KAFKA_STATE_FILE;
  let state: KafkaBrokerState | undefined;
  try {
    state = KafkaBroker.readState(file);
  } catch {
    fs.rmSync(file, { force: true });
    return file;
  }
  if (state.ownerPid !== process.pid && isAlive(state.ownerPid)) {
    return path.join(os.tmpdir(), `bridge-e2e-kafka-${process.pid}.json`);
  }
  await reapStale(state);
  fs.rmSync(file, { force: true });
  return file;
}

async function reapStale(state: KafkaBrokerState): Promise<void> {
  // Only kill the pid if it still is that broker (pids get reused).
  if (isAlive(state.pid) && state.dir && cmdline(state.pid).includes(state.dir)) await killHard(state.pid);
  if (state.dir && path.basename(state.dir).startsWith('bridge-kafka-')) {
    fs.rmSync(state.dir, { recursive: true, force: true });
  }
}

/**
 * Last resort if jest exits without running global teardown (e.g. an uncaught exception from a
 * leaked client timer): kill the shared broker by its current pid and remove its files.
 */
function killLeftover(stateFile: string): void {
  try {
    const state = KafkaBroker.readState(stateFile);
    if (state.ownerPid !== process.pid) return;
    if (isAlive(state.pid) && cmdline(state.pid).includes(state.dir)) signal(state.pid, 'SIGKILL');
    fs.rmSync(state.dir, { recursive: true, force: true });
    fs.rmSync(stateFile, { force: true });
  } catch {
    /* already torn down */
  }
}

/** `bridge-e2e-kafka-<pid>.json` files of runs that are gone. */
function removeStalePerRunStateFiles(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const match = /^bridge-e2e-kafka-(\d+)\.json$/.exec(name);
    if (match && !isAlive(Number(match[1]))) fs.rmSync(path.join(os.tmpdir(), name), { force: true });
  }
}
