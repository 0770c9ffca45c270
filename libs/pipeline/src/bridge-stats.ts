import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RuleLatencyHistogram } from './rule-latency.histogram';

/** Counters per rule, as the tests and the replay report read them. */
export interface RuleCounters {
  received: number;
  delivered: number;
  /** Dropped by a filter step (acknowledged, not written, not dead-lettered). */
  filtered: number;
  deadLettered: number;
  /** Records of this rule in batches that were retried (one count per record and retry). */
  retried: number;
  /** Dead letters fed back by a replay. */
  replayed: number;
  /** Dead-lettered, by reason code. */
  reasons: Record<string, number>;
}

/** Live values the worker reports when metrics are scraped. */
export interface LiveState {
  inFlight(): number;
  /** Age of the oldest unacknowledged QoS 1/2 message, 0 with none. */
  oldestHeldSeconds(): number;
  /** 1 connected, 0 not, per broker name (`mqtt`, `kafka`). */
  connections(): Record<string, boolean>;
  /** Every destination of every rule, with whether it is connected. */
  destinations(): ReadonlyArray<{ readonly rule: string; readonly destination: string; readonly up: boolean }>;
}

/**
 * Everything the worker counts, kept twice: as plain counters (tests, replay report) and as
 * Prometheus metrics in a registry of its own (so several workers in one process, as in the
 * tests, do not collide). Metric names are documented in docs/operations.md.
 */
export class BridgeStats {
  readonly registry = new Registry();
  private processMetrics = false;
  private readonly rules = new Map<string, RuleCounters>();
  /** Records confirmed, per rule and destination. */
  private readonly deliveredTo = new Map<string, Map<string, number>>();
  /** Copies no rule took (duplicates of overlapping subscriptions, skipped retained messages). */
  unrouted = 0;
  // Received and delivered happen once per message: plain counts, handed to prom-client when scraped
  // (its inc() builds and hashes the labels on every call).
  private readonly metrics = {
    received: new Counter({
      name: 'bridge_messages_received_total',
      help: 'Messages taken by a rule',
      labelNames: ['rule'],
      registers: [this.registry],
      collect: () => {
        const counter = this.metrics.received;
        counter.reset();
        for (const [rule, counts] of this.rules) if (counts.received > 0) counter.inc({ rule }, counts.received);
      },
    }),
    delivered: new Counter({
      name: 'bridge_messages_delivered_total',
      help: 'Records confirmed by a destination',
      labelNames: ['rule', 'destination'],
      registers: [this.registry],
      collect: () => {
        const counter = this.metrics.delivered;
        counter.reset();
        for (const [rule, destinations] of this.deliveredTo) for (const [destination, n] of destinations) counter.inc({ rule, destination }, n);
      },
    }),
    deadLettered: new Counter({
      name: 'bridge_messages_dead_lettered_total',
      help: 'Messages set aside in the dead-letter target, by reason code and by what failed (a destination, transform or source)',
      labelNames: ['rule', 'reason', 'destination'],
      registers: [this.registry],
    }),
    filtered: new Counter({ name: 'bridge_messages_filtered_total', help: 'Messages a filter step dropped', labelNames: ['rule'], registers: [this.registry] }),
    retried: new Counter({
      name: 'bridge_records_retried_total',
      help: 'Records in retried produce requests',
      labelNames: ['rule'],
      registers: [this.registry],
    }),
    replayed: new Counter({ name: 'bridge_dead_letters_replayed_total', help: 'Dead letters replayed', labelNames: ['rule'], registers: [this.registry] }),
    unrouted: new Counter({
      name: 'bridge_messages_unrouted_total',
      help: 'Copies no rule took (overlap duplicates, skipped retained)',
      registers: [this.registry],
    }),
    latency: new RuleLatencyHistogram(
      'bridge_delivery_latency_seconds',
      'From MQTT receipt to the destination confirming the record',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      [this.registry],
    ),
    keyReloads: new Counter({ name: 'bridge_key_reloads_total', help: 'Key file loads, by result', labelNames: ['result'], registers: [this.registry] }),
    mqttConnectFailures: new Counter({
      name: 'bridge_mqtt_connect_failures_total',
      help: 'Connection attempts to the source MQTT broker that it did not accept (refused, closed, unreachable)',
      registers: [this.registry],
    }),
    registryRetries: new Counter({
      name: 'bridge_schema_registry_retries_total',
      help: 'Schema registry requests that failed for a transient reason and are retried while messages wait',
      labelNames: ['registry'],
      registers: [this.registry],
    }),
  };

  constructor(live?: LiveState) {
    if (!live) return;
    new Gauge({
      name: 'bridge_in_flight_messages',
      help: 'Messages received and not yet acknowledged',
      registers: [this.registry],
      collect() {
        this.set(live.inFlight());
      },
    });
    new Gauge({
      name: 'bridge_oldest_unacknowledged_seconds',
      help: 'How long the oldest QoS 1/2 message not yet acknowledged has been held (it holds every acknowledgement behind it)',
      registers: [this.registry],
      collect() {
        this.set(live.oldestHeldSeconds());
      },
    });
    new Gauge({
      name: 'bridge_destination_up',
      help: '1 when the destination is connected (Kafka: its last contact succeeded)',
      labelNames: ['rule', 'destination'],
      registers: [this.registry],
      collect() {
        // Reset first: a reload may have removed destinations.
        this.reset();
        for (const { rule, destination, up } of live.destinations()) this.set({ rule, destination }, up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bridge_broker_connected',
      help: '1 when the connection to the broker is up',
      labelNames: ['broker'],
      registers: [this.registry],
      collect() {
        for (const [broker, up] of Object.entries(live.connections())) this.set({ broker }, up ? 1 : 0);
      },
    });
  }

  /**
   * Adds Node's process metrics (CPU, resident memory, heap, event loop lag, GC, open file
   * descriptors) to this registry. Called by the worker process that serves /metrics, not for
   * every BridgeStats: they describe the process, and tests run many workers in one.
   */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  rule(name: string): RuleCounters {
    let counters = this.rules.get(name);
    if (!counters) {
      counters = { received: 0, delivered: 0, filtered: 0, deadLettered: 0, retried: 0, replayed: 0, reasons: {} };
      this.rules.set(name, counters);
    }
    return counters;
  }

  received(rule: string): void {
    this.rule(rule).received++;
  }

  /** A destination confirmed; `receivedAt` is the message's `performance.now()` at receipt. */
  delivered(rule: string, destination: string, receivedAt: number): void {
    this.rule(rule).delivered++;
    let destinations = this.deliveredTo.get(rule);
    if (!destinations) {
      destinations = new Map();
      this.deliveredTo.set(rule, destinations);
    }
    destinations.set(destination, (destinations.get(destination) ?? 0) + 1);
    this.metrics.latency.observe(rule, (performance.now() - receivedAt) / 1000);
  }

  /** `stage` is what failed: a destination's name, `transform` or `source`. */
  deadLettered(rule: string, code: string, stage: string): void {
    const counters = this.rule(rule);
    counters.deadLettered++;
    counters.reasons[code] = (counters.reasons[code] ?? 0) + 1;
    this.metrics.deadLettered.inc({ rule, reason: code, destination: stage });
  }

  filtered(rule: string): void {
    this.rule(rule).filtered++;
    this.metrics.filtered.inc({ rule });
  }

  replayed(rule: string): void {
    this.rule(rule).replayed++;
    this.metrics.replayed.inc({ rule });
  }

  retried(rule: string): void {
    this.rule(rule).retried++;
    this.metrics.retried.inc({ rule });
  }

  unroutedCopy(): void {
    this.unrouted++;
    this.metrics.unrouted.inc();
  }

  keyReload(ok: boolean): void {
    this.metrics.keyReloads.inc({ result: ok ? 'ok' : 'failed' });
  }

  mqttConnectFailed(): void {
    this.metrics.mqttConnectFailures.inc();
  }

  schemaRegistryRetried(registry: string): void {
    this.metrics.registryRetries.inc({ registry });
  }

  snapshot(): Record<string, RuleCounters> {
    return Object.fromEntries([...this.rules].map(([name, c]) => [name, { ...c, reasons: { ...c.reasons } }]));
  }
}
