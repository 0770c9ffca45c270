/**
 * Sizes and durations of a run. `short` (CI) keeps the whole suite near 2-3 minutes on two
 * cores; `full` uses longer streams and the outages named in the brief (30 s freeze, 30 s
 * dead-letter outage, several worker kills) and stays under about 12 minutes.
 */
export interface Profile {
  readonly name: 'short' | 'full';
  /** Messages per second each publisher (one per QoS) aims at. */
  readonly ratePerSecond: number;
  /** Unacknowledged publishes a publisher keeps in flight (further capped by the broker's receive maximum). */
  readonly publishWindow: number;
  /** How long the worker stays dead after each kill -9 before it is started again. */
  readonly workerDownMs: number;
  /** How many times the worker is killed during its scenario. */
  readonly workerKills: number;
  /** How long Mosquitto stays down during each restart, and how many restarts. */
  readonly mosquittoDownMs: number;
  readonly mosquittoRestarts: number;
  /** Kafka frozen with SIGSTOP for this long. */
  readonly freezeMs: number;
  /** The worker's request timeout in kafka-long-freeze, which freezes Kafka three times as long. */
  readonly longFreezeRequestTimeoutMs: number;
  /** Kafka stopped for this long while every message has to be dead-lettered. */
  readonly deadLetterOutageMs: number;
  /** Stream length in seconds, per scenario (covers the fault with some stream before and after it). */
  readonly streamSeconds: Readonly<Record<string, number>>;
  /** After the stream: how long to wait for Kafka to hold every acknowledged message. */
  readonly verifyTimeoutMs: number;
  /** After everything arrived: keep reading this long to catch late duplicates. */
  readonly settleMs: number;
  /** Hard limit per scenario (the watchdog aborts it and its row reports an error). */
  readonly scenarioTimeoutMs: number;
  /** Hard limit for the whole run. */
  readonly runTimeoutMs: number;
}

export const SHORT: Profile = {
  name: 'short',
  ratePerSecond: 150,
  publishWindow: 50,
  workerDownMs: 1_000,
  workerKills: 1,
  mosquittoDownMs: 2_000,
  mosquittoRestarts: 1,
  freezeMs: 8_000,
  longFreezeRequestTimeoutMs: 2_000,
  deadLetterOutageMs: 8_000,
  streamSeconds: {
    'worker-kill-9': 10,
    'kafka-restart': 10,
    'mosquitto-restart': 8,
    'kafka-freeze': 14,
    'kafka-long-freeze': 14,
    'keyless-new-topic': 6,
    'dead-letter-down': 13,
  },
  verifyTimeoutMs: 45_000,
  settleMs: 1_500,
  scenarioTimeoutMs: 120_000,
  runTimeoutMs: 8 * 60_000,
};

export const FULL: Profile = {
  name: 'full',
  ratePerSecond: 400,
  publishWindow: 100,
  workerDownMs: 4_000,
  workerKills: 3,
  mosquittoDownMs: 5_000,
  mosquittoRestarts: 2,
  freezeMs: 30_000,
  longFreezeRequestTimeoutMs: 5_000,
  deadLetterOutageMs: 30_000,
  streamSeconds: {
    'worker-kill-9': 50,
    'kafka-restart': 40,
    'mosquitto-restart': 40,
    'kafka-freeze': 50,
    'kafka-long-freeze': 50,
    'keyless-new-topic': 20,
    'dead-letter-down': 50,
  },
  verifyTimeoutMs: 120_000,
  settleMs: 3_000,
  scenarioTimeoutMs: 300_000,
  runTimeoutMs: 18 * 60_000,
};

export function streamSeconds(profile: Profile, scenario: string): number {
  const seconds = profile.streamSeconds[scenario];
  if (seconds === undefined) throw new Error(`profile ${profile.name} has no stream length for scenario ${scenario}`);
  return seconds;
}
