import { Scenario } from '../lib/scenario';
import { deadLetterDown } from './dead-letter-down';
import { kafkaFreeze } from './kafka-freeze';
import { kafkaLongFreeze } from './kafka-long-freeze';
import { kafkaRestart } from './kafka-restart';
import { keylessNewTopic } from './keyless-new-topic';
import { mosquittoRestart } from './mosquitto-restart';
import { workerKill } from './worker-kill';

/** In the order they run. */
export const SCENARIOS: readonly Scenario[] = [workerKill, kafkaRestart, mosquittoRestart, kafkaFreeze, kafkaLongFreeze, keylessNewTopic, deadLetterDown];
