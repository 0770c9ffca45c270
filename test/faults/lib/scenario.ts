import { KafkaBroker } from '../../harness/kafka.broker';
import { MosquittoBroker } from '../../harness/mosquitto.broker';
import { StreamResult } from './analysis';
import { Profile } from './profile';
import { PublisherStats } from './publisher';
import { Scope } from './scope';
import { FaultWorker, WorkerLogSummary } from './worker';

/**
 * One fault scenario: `fault()` runs while both numbered streams (QoS 1 and QoS 2) flow through
 * Mosquitto and the worker into Kafka, and returns once the fault is over (whatever it stopped
 * is running again). Everything else (brokers, worker, publishers, verification, clean-up) is
 * the same for every scenario: see run-scenario.ts.
 */
export interface Scenario {
  readonly name: string;
  /** One line for the report. */
  readonly title: string;
  /** The rules dead-letter every message (decrypt fed plain payloads): the DLQ is the destination. */
  readonly deadLetterAll?: boolean;
  /** How the scenario's worker and topics differ from the default (keyed streams, pre-created topics). */
  readonly setup?: ScenarioSetup;
  fault(ctx: FaultContext): Promise<void>;
}

export interface ScenarioSetup {
  /** Records without a Kafka key (`key: ""`): sticky partitions, no order per key to check. */
  readonly keyless?: boolean;
  /** kafka.requestTimeoutMs of the worker, for faults that must outlast it. */
  readonly requestTimeoutMs?: (profile: Profile) => number;
  /** Leave the output topics to Kafka's auto-creation (the first records race the new topic's leaders). */
  readonly autoCreateTopics?: boolean;
}

export interface FaultContext {
  readonly profile: Profile;
  readonly kafka: KafkaBroker;
  readonly mosquitto: MosquittoBroker;
  readonly worker: FaultWorker;
  readonly scope: Scope;
  /** Resolves once both publishers have published `fraction` of their stream. */
  progress(fraction: number): Promise<void>;
  /** Records a timeline event (seconds since the stream started) and prints it. */
  mark(event: string): void;
}

/** Shared by all scenarios of a run. */
export interface RunEnv {
  readonly kafka: KafkaBroker;
  readonly profile: Profile;
  readonly resultsDir: string;
  log(line: string): void;
}

export interface TimelineEvent {
  /** Seconds since the first publish. */
  readonly t: number;
  readonly event: string;
}

/** Everything one scenario reports; the JSON file holds one per scenario. */
export interface ScenarioReport {
  readonly name: string;
  readonly title: string;
  readonly rows: StreamResult[];
  readonly error?: string;
  readonly seconds: number;
  readonly timeline: TimelineEvent[];
  readonly publishers: Record<string, PublisherStats>;
  readonly worker: {
    readonly starts: number;
    /** Messages the last worker still held (received, not acknowledged) when checked at the end. */
    readonly inFlightAtEnd?: number;
    /** Most messages the last worker held at once (sampled every 5 ms by worker-process.ts). */
    readonly inFlightMax?: number;
    readonly rules?: Record<string, unknown>;
    readonly log?: WorkerLogSummary;
  };
  /** Anything unexpected besides the table's figures (DLQ records in a pass-through scenario, ...). */
  readonly notes: string[];
  readonly cleanupProblems: string[];
}
