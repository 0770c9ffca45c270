import { Logger } from '@nestjs/common';
import { IHeaders } from 'kafkajs';
import { DeliveryFailedError, DestinationRejectedError, DestinationUnavailableError, nextDelay, ShutdownError } from '@app/core';
import { ClusterProbe } from './cluster.probe';
import { kafkaClientConfig, KafkaClientFactory } from './kafka.client-factory';
import { DeliveryConfig, KafkaConnectionConfig } from './kafka.schema';
import { KafkaRecord, KafkaWriter, RetryListener } from './kafka.writer';
import { RdkafkaClientFactory } from './rdkafka.client-factory';
import { rdkafkaProducerConfig } from './rdkafka.config';
import { breaksIdempotence, isConnectionCode, isFatal, isPurged, rdkafkaToBridgeError } from './rdkafka.errors';
import { RD, RdkafkaDeliveryReport, RdkafkaError, RdkafkaHeaders, RdkafkaProducer } from './rdkafka.native';
import { oversize, recordSize } from './record-size';

interface Pending {
  readonly record: KafkaRecord;
  readonly since: number;
  resolve(): void;
  reject(error: unknown): void;
  /** The producer it was handed to; a report from any other (replaced) producer is stale. */
  producer?: RdkafkaProducer;
}

interface Lane {
  readonly id: string;
  readonly delivery: DeliveryConfig;
  producer?: RdkafkaProducer;
  ready: boolean;
  connecting: boolean;
  /** Not yet handed to librdkafka (not connected, or its queue full), in write order. */
  waiting: Pending[];
  /** Handed to librdkafka and not yet reported, in write order (a Set iterates in insertion order). */
  readonly inflight: Set<Pending>;
  connectAttempt: number;
  connectSince: number;
  /** Producers replaced since the last confirmed record, and since when: paced by the retry policy. */
  replacements: number;
  replacingSince: number;
  retryTimer?: NodeJS.Timeout;
}

/**
 * The KafkaWriter on librdkafka. Each record goes to `produce()` as it is written; librdkafka
 * batches (linger.ms), encodes and sends on its own threads, retries in order (the idempotent
 * producer keeps a partition's order through retries) and reports each record once. The report
 * settles the record's promise, which drives the ordered MQTT acknowledgements.
 *
 * Records wait here, in order, only while the producer is not connected or librdkafka's queue is
 * full. A fatal error (the idempotent producer's state lost) replaces the producer and hands it
 * every record the old one had not reported, in their order: at-least-once, never lost.
 */
export class RdkafkaWriter implements KafkaWriter {
  readonly client = 'librdkafka';
  private readonly log = new Logger(RdkafkaWriter.name);
  private readonly lanes = new Map<string, Lane>();
  private readonly prober: ClusterProbe;
  private closed = false;
  private reachableNow = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly factory: RdkafkaClientFactory,
    kafkajs: KafkaClientFactory,
    private readonly config: KafkaConnectionConfig,
    private readonly onRetry: RetryListener = () => undefined,
  ) {
    this.prober = new ClusterProbe(kafkajs.createClient(kafkaClientConfig(config)), config.brokers, (reachable) => (this.reachableNow = reachable));
  }

  get reachable(): boolean {
    return this.reachableNow;
  }

  get queued(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.waiting.length + lane.inflight.size;
    return n;
  }

  probe(maxAgeMs = 0): Promise<boolean> {
    return this.prober.probe(maxAgeMs);
  }

  write(record: KafkaRecord, delivery: DeliveryConfig): Promise<void> {
    if (this.closed) return Promise.reject(new ShutdownError('Kafka writer is closed'));
    const refused = oversize(recordSize(record), this.config.producer.maxMessageBytes);
    if (refused) return Promise.reject(refused);
    const lane = this.lane(delivery);
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { record, since: Date.now(), resolve, reject };
      // Behind records already waiting, so that order holds.
      if (lane.waiting.length > 0 || !lane.ready || !this.produce(lane, pending)) {
        lane.waiting.push(pending);
        if (!lane.ready) this.connect(lane);
      }
    });
  }

  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    if (this.queued > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => this.idle.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    const left = new ShutdownError('Kafka writer closed before Kafka confirmed the record');
    await Promise.all(
      [...this.lanes.values()].map(async (lane) => {
        clearTimeout(lane.retryTimer);
        for (const pending of [...lane.inflight, ...lane.waiting.splice(0)]) {
          pending.producer = undefined;
          pending.reject(left);
        }
        lane.inflight.clear();
        const producer = lane.producer;
        lane.producer = undefined;
        lane.ready = false;
        if (producer) await disconnect(producer, 1_000);
      }),
    );
  }

  private lane(delivery: DeliveryConfig): Lane {
    const id = `${delivery.acks}/${delivery.idempotent}`;
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = {
        id,
        delivery,
        ready: false,
        connecting: false,
        waiting: [],
        inflight: new Set(),
        connectAttempt: 0,
        connectSince: 0,
        replacements: 0,
        replacingSince: 0,
      };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  /** Hands a record to librdkafka; false when it must wait (queue full, producer replaced). */
  private produce(lane: Lane, pending: Pending): boolean {
    const producer = lane.producer!;
    const { record } = pending;
    try {
      pending.producer = producer;
      producer.produce(record.topic, record.partition ?? null, record.value, record.key, Date.now(), pending, nativeHeaders(record.headers));
      lane.inflight.add(pending);
      return true;
    } catch (error) {
      pending.producer = undefined;
      const failure = error as RdkafkaError;
      // The next delivery report makes room and drains the waiting records.
      if (failure.code === RD.QUEUE_FULL) return false;
      if (isFatal(failure)) {
        this.replace(lane, failure);
        return false;
      }
      this.fail(pending, failure);
      return true;
    }
  }

  private drain(lane: Lane): void {
    while (lane.ready && lane.waiting.length > 0) {
      if (!this.produce(lane, lane.waiting[0])) return;
      lane.waiting.shift();
    }
  }

  private report(lane: Lane, producer: RdkafkaProducer, error: RdkafkaError | null, report: RdkafkaDeliveryReport): void {
    const pending = report.opaque as Pending | undefined;
    if (!pending || pending.producer !== producer || lane.producer !== producer) return;
    // Closing rejects what is left itself; before that, a purge means the producer failed for good.
    if (error && (isFatal(error) || isPurged(error) || (lane.delivery.idempotent && breaksIdempotence(error.code)))) return this.replace(lane, error);
    lane.inflight.delete(pending);
    if (!error) {
      this.reachableNow = true;
      lane.replacements = 0;
      pending.resolve();
    } else {
      this.fail(pending, error);
    }
    if (lane.waiting.length > 0) this.drain(lane);
    this.settled();
  }

  /** close() waits for this: nothing left unsettled. */
  private settled(): void {
    if (this.idle.length > 0 && this.queued === 0) this.idle.splice(0).forEach((resolve) => resolve());
  }

  /** librdkafka gave up on the record: for good (rejected) or after the retry policy's limits. */
  private fail(pending: Pending, error: RdkafkaError): void {
    const typed = rdkafkaToBridgeError(error);
    if (typed.retriable) this.reachableNow = false;
    const attempts = typed.retriable ? Math.max(1, this.config.producer.retry.maxAttempts) : 1;
    this.log.warn(`Kafka write to ${pending.record.topic} failed: ${error.message}`);
    pending.reject(new DeliveryFailedError(typed, attempts, new Date(pending.since), new Date()));
    this.settled();
  }

  private connect(lane: Lane): void {
    if (lane.connecting || lane.ready || lane.retryTimer || this.closed) return;
    lane.connecting = true;
    if (lane.connectAttempt === 0) lane.connectSince = Date.now();
    let producer: RdkafkaProducer;
    try {
      producer = this.factory.createProducer(rdkafkaProducerConfig(this.config, lane.delivery));
    } catch (error) {
      // librdkafka refused the configuration: nothing written on this lane can succeed.
      lane.connecting = false;
      const refused = new DestinationRejectedError(`librdkafka refused the producer configuration: ${(error as Error).message}`, 'invalid-config', {
        cause: error,
      });
      this.rejectAll(lane, new DeliveryFailedError(refused, 1, new Date(), new Date()));
      return;
    }
    producer.on('delivery-report', (error, report) => this.report(lane, producer, error, report));
    producer.on('event.error', (error) => this.onError(lane, producer, error));
    producer.connect({ timeout: Math.max(1_000, this.config.connectionTimeoutMs) }, (error) => {
      lane.connecting = false;
      // A failed connect leaves the binding's native callbacks registered (and the producer uncollectable) until released.
      if (error) producer._disconnect?.(() => undefined);
      if (this.closed) return error ? undefined : void disconnect(producer);
      if (error) return this.connectFailed(lane, error);
      producer.setPollInBackground(true);
      lane.producer = producer;
      lane.ready = true;
      lane.connectAttempt = 0;
      this.reachableNow = true;
      this.drain(lane);
    });
  }

  /**
   * Tried again with the retry policy's pacing while records wait. Where the policy sets a limit,
   * the records waiting when it is reached fail (dead-lettered), as with kafkajs.
   */
  private connectFailed(lane: Lane, error: RdkafkaError): void {
    this.reachableNow = false;
    const policy = this.config.producer.retry;
    lane.connectAttempt++;
    if (lane.connectAttempt === 1) this.log.warn(`Kafka ${this.config.brokers.join(',')} not reachable (${error.message}); records wait`);
    let delay = nextDelay(policy, lane.connectAttempt, Date.now() - lane.connectSince);
    if (delay === undefined) {
      const failure = new DeliveryFailedError(
        new DestinationUnavailableError(`Kafka unavailable: ${error.message}`, { cause: error }),
        lane.connectAttempt,
        new Date(lane.connectSince),
        new Date(),
      );
      this.rejectAll(lane, failure);
      lane.connectAttempt = 0;
      delay = policy.maxMs;
    }
    lane.retryTimer = setTimeout(() => {
      lane.retryTimer = undefined;
      if (lane.waiting.length > 0) this.connect(lane);
    }, delay);
  }

  private onError(lane: Lane, producer: RdkafkaProducer, error: RdkafkaError): void {
    if (lane.producer !== producer) return;
    const code = this.factory.eventCode(error);
    // On an idempotent lane, no IDEMPOTENT_WRITE permission shows as cluster authorization failing.
    const idempotenceLost = lane.delivery.idempotent && (breaksIdempotence(code) || code === RD.CLUSTER_AUTHORIZATION_FAILED);
    if (code === RD.FATAL || isFatal(error) || idempotenceLost) return this.replace(lane, error);
    if (isConnectionCode(code)) {
      if (this.reachableNow) this.log.warn(`Kafka connection lost (${error.message}); librdkafka retries, records wait`);
      this.reachableNow = false;
      // librdkafka retries without telling which records: each failed connection counts the records it holds once.
      if (lane.inflight.size > 0) this.onRetry([...lane.inflight].map((p) => p.record));
    }
  }

  /**
   * A new producer (new producer id) restarts every sequence, so what the old one held can go
   * through again; what the old one may have written of it is written again. Paced by the retry
   * policy, whose limits end it like any outage; a refusal for good (say, no IDEMPOTENT_WRITE
   * permission) fails the records at once.
   */
  private replace(lane: Lane, error: RdkafkaError): void {
    const old = lane.producer;
    const unconfirmed = [...lane.inflight];
    lane.inflight.clear();
    for (const pending of unconfirmed) pending.producer = undefined;
    lane.waiting = unconfirmed.concat(lane.waiting);
    lane.producer = undefined;
    lane.ready = false;
    if (old) void disconnect(old, 0);
    const typed = rdkafkaToBridgeError({ ...error, message: error.message, code: this.factory.eventCode(error) });
    const now = Date.now();
    if (lane.replacements === 0) lane.replacingSince = now;
    lane.replacements++;
    const delay = typed.retriable ? nextDelay(this.config.producer.retry, lane.replacements, now - lane.replacingSince) : undefined;
    if (delay === undefined) {
      this.log.warn(`Kafka producer failed for good (${error.message}): failing its ${lane.waiting.length} record(s)`);
      this.rejectAll(lane, new DeliveryFailedError(typed, lane.replacements, new Date(lane.replacingSince), new Date(now)));
      lane.replacements = 0;
      return;
    }
    this.log.warn(`Kafka producer failed for good (${error.message}): replacing it and sending its ${unconfirmed.length} unconfirmed record(s) again`);
    if (unconfirmed.length > 0) this.onRetry(unconfirmed.map((p) => p.record));
    clearTimeout(lane.retryTimer);
    lane.retryTimer = setTimeout(() => {
      lane.retryTimer = undefined;
      this.connect(lane);
    }, delay);
  }

  /** Fails every record the lane holds that librdkafka does not. */
  private rejectAll(lane: Lane, error: unknown): void {
    for (const pending of lane.waiting.splice(0)) pending.reject(error);
    this.settled();
  }
}

/** Closes a producer (flushing for up to `timeoutMs`); one that is not connected has nothing to close. */
function disconnect(producer: RdkafkaProducer, timeoutMs = 0): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      producer.disconnect(timeoutMs, resolve);
    } catch {
      // Not connected (its flush throws): nothing to release.
      resolve();
    }
  });
}

/** kafkajs-style headers as librdkafka takes them: one single-entry object per value. */
function nativeHeaders(headers: IHeaders): RdkafkaHeaders {
  const out: RdkafkaHeaders = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push({ [name]: v });
    else out.push({ [name]: value });
  }
  return out;
}
