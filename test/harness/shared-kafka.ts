import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaBroker, externalBrokersFromEnv } from './kafka.broker';

/** Where global setup records the shared broker (pid, ports, dir, command line). */
export const DEFAULT_KAFKA_STATE_FILE = path.join(os.tmpdir(), 'bridge-e2e-kafka.json');

/**
 * Env vars global setup exports to the test workers (jest runs globalSetup in its parent process;
 * workers are forked afterwards and inherit process.env):
 *  - KAFKA_BROKERS              the shared broker, e.g. 127.0.0.1:40123
 *  - BRIDGE_E2E_KAFKA_SHARED    same value: marks KAFKA_BROKERS as the harness's own, not a user's
 *  - BRIDGE_E2E_KAFKA_STATE     path of the state file (the default path, or a per-run one when
 *                               another jest run still owns the default)
 */
export function kafkaStateFile(): string {
  return process.env.BRIDGE_E2E_KAFKA_STATE || DEFAULT_KAFKA_STATE_FILE;
}

let cached: KafkaBroker | undefined;

/**
 * The Kafka every e2e test shares. When global setup started it, the handle re-attaches from the
 * state file and can stop/kill/restart/pause it (by pid; restart re-runs the same command line on
 * the same ports and data dir, and records the new pid for everyone). When the user provided
 * KAFKA_BROKERS, it is an external cluster: client helpers only, `controllable` is false.
 *
 * Tests that stop/restart/pause the shared broker disturb every test running at the same time:
 * run e2e in band (one worker), and restore it (restart()/resume()) before the test ends.
 */
export function sharedKafka(): KafkaBroker {
  const brokers = process.env.KAFKA_BROKERS?.trim();
  if (cached && cached.brokers.join(',') === brokers) return cached;
  cached = undefined;

  const external = externalBrokersFromEnv();
  if (external) return (cached = KafkaBroker.external(external));

  const file = kafkaStateFile();
  if (brokers && fs.existsSync(file)) {
    const state = KafkaBroker.readState(file);
    if (state.brokers.join(',') === brokers) return (cached = KafkaBroker.attach(state, { stateFile: file }));
  }
  throw new Error(
    'sharedKafka(): no shared Kafka broker. Run the e2e project through jest (its globalSetup, ' +
      'test/harness/global-setup.ts, starts one and exports KAFKA_BROKERS), or set KAFKA_BROKERS=host:port ' +
      `to use an existing cluster. (KAFKA_BROKERS=${brokers ?? '<unset>'}, state file ${file} ` +
      `${fs.existsSync(file) ? 'does not match' : 'missing'})`,
  );
}
