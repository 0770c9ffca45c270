import { Scenario } from '../lib/scenario';
import { deadLetterDown } from './dead-letter-down';
import { kafkaFreeze } from './kafka-freeze';
import { kafkaRestart } from './kafka-restart';
import { mosquittoRestart } from './mosquitto-restart';
import { workerKill } from './worker-kill';

/** In the order they run. */
export const SCENARIOS: readonly Scenario[] = [workerKill, kafkaRestart, mosquittoRestart, kafkaFreeze, deadLetterDown];
