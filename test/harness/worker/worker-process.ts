/**
 * Child process of the benchmark: one BridgeWorker on the YAML configuration named by argv[2].
 *
 * IPC, parent -> child: { type: 'reset' } | { type: 'stats' } | { type: 'memory' } | { type: 'profile-start' } |
 *   { type: 'profile-stop', file } | { type: 'memory', gc? } | { type: 'stop', drainMs }
 * child -> parent: { type: 'ready', pid } | { type: 'reset-done' } |
 *   { type: 'stats', stats, inFlight, inFlightMax, inFlightAvg, produce } |
 *   { type: 'memory', rss, heapUsed, heapTotal, external, arrayBuffers } | { type: 'profile-started' } | { type: 'profile-stopped', file } |
 *   { type: 'stopped' } | { type: 'error', message }
 *
 * The CPU profiler (node:inspector) is driven over IPC so that a profile covers the measured
 * window only, not ts-node's start-up compilation.
 */
import * as fs from 'node:fs';
import { Session } from 'node:inspector';
import { constants as perf, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { readEnvironment } from '@app/config';
import { MqttClientFactory } from '@app/mqtt';
import { loadBridgeConfig } from '@app/bridge-config';
import { BridgeWorker } from '@app/worker';
import { CountingKafkaClientFactory } from './kafka-probe';

type Message = { type: string; drainMs?: number; file?: string; gc?: boolean };

function send(message: Record<string, unknown>): void {
  if (process.connected) process.send?.(message);
}

function post<T>(session: Session, method: string, params: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: worker-process.ts <config.yaml>');
  // Warnings and errors only: a start-up line per case would drown the table.
  Logger.overrideLogger(['error', 'warn']);
  // await: works whether the loader is synchronous or not.
  const loaded = await loadBridgeConfig(file, readEnvironment());
  const kafkaFactory = new CountingKafkaClientFactory(process.env.BENCH_KAFKA_NODELAY === '1');
  const worker = new BridgeWorker(loaded, new MqttClientFactory(), kafkaFactory);
  await worker.start();
  // Messages held by the worker (received, not yet confirmed by Kafka), sampled every 5 ms.
  const inFlight = { max: 0, sum: 0, samples: 0 };
  // How long callbacks wait for the event loop (a busy loop delays Kafka responses and MQTT reads alike).
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  // GC pauses (main thread): how much of the loop delay the collector explains.
  const gc = { scavenges: 0, scavengeMs: 0, scavengeMaxMs: 0, majors: 0, majorMs: 0, majorMaxMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perf.NODE_PERFORMANCE_GC_MINOR) {
        gc.scavenges++;
        gc.scavengeMs += entry.duration;
        gc.scavengeMaxMs = Math.max(gc.scavengeMaxMs, entry.duration);
      } else {
        gc.majors++;
        gc.majorMs += entry.duration;
        gc.majorMaxMs = Math.max(gc.majorMaxMs, entry.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const n = worker.inFlight;
    inFlight.max = Math.max(inFlight.max, n);
    inFlight.sum += n;
    inFlight.samples++;
  }, 5).unref();
  let profiler: Session | undefined;
  let stopping = false;

  process.on('message', (raw: unknown) => {
    const m = raw as Message;
    void (async () => {
      switch (m.type) {
        case 'reset':
          Object.assign(kafkaFactory.counters, { requests: 0, records: 0, maxRecords: 0, failures: 0, failureTypes: {}, busyMs: 0 });
          Object.assign(inFlight, { max: 0, sum: 0, samples: 0 });
          loopDelay.reset();
          Object.assign(gc, { scavenges: 0, scavengeMs: 0, scavengeMaxMs: 0, majors: 0, majorMs: 0, majorMaxMs: 0 });
          send({ type: 'reset-done' });
          break;
        case 'stats':
          send({
            type: 'stats',
            stats: worker.stats.snapshot(),
            inFlight: worker.inFlight,
            inFlightMax: inFlight.max,
            inFlightAvg: inFlight.samples ? inFlight.sum / inFlight.samples : 0,
            produce: kafkaFactory.counters,
            loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
            loopDelayMaxMs: loopDelay.max / 1e6,
            gc: { ...gc },
          });
          break;
        case 'memory': {
          const before = process.memoryUsage();
          // With { gc: true } (and --expose-gc): a full collection first, so heapUsed is the live heap.
          const gc = (globalThis as { gc?: () => void }).gc;
          if (m.gc && gc) gc();
          const mem = m.gc && gc ? { ...process.memoryUsage(), rss: before.rss } : before;
          send({ type: 'memory', rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers });
          break;
        }
        case 'profile-start':
          profiler = new Session();
          profiler.connect();
          await post(profiler, 'Profiler.enable');
          await post(profiler, 'Profiler.setSamplingInterval', { interval: 200 });
          await post(profiler, 'Profiler.start');
          send({ type: 'profile-started' });
          break;
        case 'profile-stop': {
          if (!profiler || !m.file) throw new Error('profile-stop without profile-start or file');
          const { profile } = await post<{ profile: unknown }>(profiler, 'Profiler.stop');
          fs.writeFileSync(m.file, JSON.stringify(profile));
          profiler.disconnect();
          profiler = undefined;
          send({ type: 'profile-stopped', file: m.file });
          break;
        }
        case 'stop':
          if (stopping) return;
          stopping = true;
          await worker.stop(m.drainMs ?? 5_000);
          send({ type: 'stopped' });
          // Let the IPC message flush before exiting.
          setTimeout(() => process.exit(0), 20);
          break;
        default:
          throw new Error(`unknown message ${JSON.stringify(m)}`);
      }
    })().catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  // The benchmark went away (crash, Ctrl-C): do not outlive it.
  process.on('disconnect', () => {
    if (!stopping) process.exit(3);
  });
  send({ type: 'ready', pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  setTimeout(() => process.exit(1), 50);
});
