import * as fs from 'node:fs';
import { KafkaBroker } from './kafka.broker';
import { kafkaStateFile } from './shared-kafka';

/**
 * jest globalTeardown of the e2e project: stops the shared Kafka (whatever pid it has now – a test
 * may have restarted it from a worker) and removes its temp dir and the state file. Silent on
 * success: the summary reporter's line must stay the last line of the run.
 */
export default async function globalTeardown(): Promise<void> {
  const shared = process.env.BRIDGE_E2E_KAFKA_SHARED;
  if (!shared || process.env.KAFKA_BROKERS !== shared) return; // external cluster or nothing started
  const file = kafkaStateFile();
  try {
    if (fs.existsSync(file)) {
      const state = KafkaBroker.readState(file);
      if (state.ownerPid === process.pid) {
        await KafkaBroker.attach(state, { stateFile: file }).destroy({ force: true });
      }
    }
  } finally {
    delete process.env.KAFKA_BROKERS;
    delete process.env.BRIDGE_E2E_KAFKA_SHARED;
    delete process.env.BRIDGE_E2E_KAFKA_STATE;
  }
}
