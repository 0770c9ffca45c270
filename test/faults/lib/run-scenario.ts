import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaBroker } from '../../harness/kafka.broker';
import { MosquittoBroker } from '../../harness/mosquitto.broker';
import { signal } from '../../harness/proc';
import { StreamResult } from './analysis';
import { streamNames, writeWorkerConfig } from './config';
import { streamSeconds } from './profile';
import { PublisherStats, SequencePublisher } from './publisher';
import { FaultContext, RunEnv, Scenario, ScenarioReport, TimelineEvent } from './scenario';
import { Scope } from './scope';
import { verify } from './verify';
import { FaultWorker, WorkerLogSummary, workerLogs } from './worker';

/** Temp dirs of running scenarios: removed by an exit hook when the run is interrupted. */
const tempDirs = new Set<string>();
process.on('exit', () => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** Kafka is shared by the run: a scenario that failed mid-fault may have left it frozen or stopped. */
export async function ensureKafka(kafka: KafkaBroker): Promise<void> {
  if (kafka.running) await kafka.resume();
  else await kafka.restart();
}

/**
 * Runs one scenario from scratch: a fresh Mosquitto (persistence on), fresh topics, a worker child
 * process with a persistent session, one publisher per QoS; the fault runs while both streams
 * flow; then Kafka is read and every row computed. Whatever happens, everything started here is
 * stopped (the scope), and a watchdog aborts the scenario after `scenarioTimeoutMs`.
 */
export async function runScenario(scenario: Scenario, env: RunEnv): Promise<ScenarioReport> {
  const { kafka, profile } = env;
  const scope = new Scope();
  const started = Date.now();
  let streamStart = 0;
  const timeline: TimelineEvent[] = [];
  const mark = (event: string) => {
    const t = streamStart ? (Date.now() - streamStart) / 1000 : 0;
    timeline.push({ t: Math.round(t * 10) / 10, event });
    env.log(`  [${scenario.name}] t=${t.toFixed(1)}s ${event}`);
  };
  const watchdog = setTimeout(() => {
    mark(`WATCHDOG: still running after ${profile.scenarioTimeoutMs} ms, aborting`);
    scope.abort(`scenario exceeded its ${profile.scenarioTimeoutMs} ms limit`);
  }, profile.scenarioTimeoutMs);

  let rows: StreamResult[] = [];
  let notes: string[] = [];
  let error: string | undefined;
  let worker: FaultWorker | undefined;
  let workerEnd: { inFlightAtEnd?: number; inFlightMax?: number; rules?: Record<string, unknown> } = {};
  let log: WorkerLogSummary | undefined;
  const publishers: SequencePublisher[] = [];
  try {
    await ensureKafka(kafka);
    const id = `faults-${scenario.name}-${randomBytes(3).toString('hex')}`;
    const streams = [streamNames(id, 1), streamNames(id, 2)];
    const setup = scenario.setup ?? {};
    for (const s of streams) {
      if (!setup.autoCreateTopics) await kafka.createTopic(s.kafkaTopic, 3);
      await kafka.createTopic(s.deadLetterTopic, 3);
    }
    // FAULTS_MOSQUITTO_DEBUG=1: log every packet (evidence for protocol-level findings; large).
    const extraConfig = process.env.FAULTS_MOSQUITTO_DEBUG === '1' ? ['log_type all'] : [];
    const mosquitto = await MosquittoBroker.start({ persistence: true, extraConfig });
    scope.defer('destroy Mosquitto', () => mosquitto.destroy());
    scope.defer('keep the Mosquitto log', () => fs.copyFileSync(mosquitto.logFile, path.join(env.resultsDir, `${scenario.name}.mosquitto.log`)));
    scope.onAbort(() => signal(mosquitto.pid, 'SIGKILL'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-faults-'));
    tempDirs.add(dir);
    scope.defer('remove the temp dir', () => {
      fs.rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    });
    const configFile = await writeWorkerConfig({
      dir,
      id,
      mqttUrl: mosquitto.url,
      kafkaBrokers: kafka.brokers,
      streams,
      deadLetterAll: scenario.deadLetterAll ?? false,
      keyless: setup.keyless,
      requestTimeoutMs: setup.requestTimeoutMs?.(profile),
    });
    workerLogs.open(path.join(env.resultsDir, `${scenario.name}.worker.log`));
    scope.defer('close the worker log', () => (log = workerLogs.close()));
    const w = (worker = new FaultWorker(scenario.name, configFile));
    scope.defer('stop the worker', () => w.stop());
    scope.onAbort(() => w.killNow());
    await w.start();

    const seconds = streamSeconds(profile, scenario.name);
    const count = Math.round(profile.ratePerSecond * seconds);
    for (const s of streams) {
      const p = await SequencePublisher.connect({
        url: mosquitto.url,
        clientId: `${id}-pub-q${s.qos}`,
        qos: s.qos,
        topics: s.mqttTopics,
        count,
        ratePerSecond: profile.ratePerSecond,
        window: profile.publishWindow,
      });
      publishers.push(p);
      scope.defer(`close the q${s.qos} publisher`, () => p.close());
    }

    streamStart = Date.now();
    mark(`stream start: ${count} messages per QoS at ${profile.ratePerSecond}/s over ${streams[0].mqttTopics.length} topics (worker pid ${w.pid})`);
    const ctx: FaultContext = {
      profile,
      kafka,
      mosquitto,
      worker: w,
      scope,
      mark,
      async progress(fraction: number) {
        const target = Math.floor(count * fraction);
        const ok = await scope.until(() => publishers.every((p) => p.stats().published >= target), seconds * 3_000 + 30_000);
        if (!ok) throw new Error(`the publishers did not reach ${Math.round(fraction * 100)} % of the stream`);
      },
    };
    const publishing = publishers.map((p) => p.run(scope, seconds * 2_000 + 60_000));
    const fault = scenario.fault(ctx).catch((e: Error) => {
      scope.abort(`the fault failed: ${e.message}`);
      throw e;
    });
    await Promise.all([fault, ...publishing]);
    mark(`stream done: acknowledged q1 ${publishers[0].acked}/${count}, q2 ${publishers[1].acked}/${count}`);

    ({ rows, notes } = await verify({
      scenario: scenario.name,
      kafka,
      profile,
      scope,
      streams,
      publishers,
      deadLetterAll: scenario.deadLetterAll ?? false,
      resultsDir: env.resultsDir,
      streamStart,
      mark,
    }));
    const stats = await w.stats().catch(() => undefined);
    workerEnd = { inFlightAtEnd: stats?.inFlight, inFlightMax: stats?.inFlightMax, rules: stats?.stats };
    if (stats && stats.inFlight > 0) notes.push(`the worker still held ${stats.inFlight} unacknowledged message(s) at the end`);
    for (const p of publishers) {
      const st = p.stats();
      if (st.unacked > 0) notes.push(`q${p.qos}: ${st.unacked} publish(es) never acknowledged by Mosquitto (not counted as sent)`);
    }
  } catch (e) {
    error = (e as Error).stack ?? String(e);
    mark(`ERROR: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    clearTimeout(watchdog);
  }
  const cleanupProblems = await scope.close();
  const publisherStats: Record<string, PublisherStats> = {};
  for (const p of publishers) publisherStats[`q${p.qos}`] = p.stats();
  if (log && log.errors > 0) notes.push(`the worker logged ${log.errors} error line(s); see ${path.relative(process.cwd(), log.file)}`);
  const rme = log?.events['mqtt-receive-maximum-exceeded'] ?? 0;
  if (rme > 0)
    notes.push(
      `MQTT.js closed the worker's connection ${rme} time(s) with "Receive Maximum exceeded" (inbound QoS 2): Mosquitto redelivered everything in flight`,
    );
  if (log && Object.keys(log.events).length > 0)
    notes.push(
      `worker log events: ${Object.entries(log.events)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
  return {
    name: scenario.name,
    title: scenario.title,
    rows,
    error,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    timeline,
    publishers: publisherStats,
    worker: { starts: worker?.starts ?? 0, ...workerEnd, log },
    notes,
    cleanupProblems,
  };
}
