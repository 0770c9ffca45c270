import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Kafka, KafkaConfig } from 'kafkajs';
import { canConnect, freePort } from './free-port';
import { ConsumedMessage, ConsumeOptions, consumeTopic, externalBrokersFromEnv, quietKafka, splitBrokers } from './kafka-client';

export { consumeTopic, externalBrokersFromEnv, quietKafka, splitBrokers, type ConsumedMessage, type ConsumeOptions } from './kafka-client';
import { javaBinary, kafkaVersion, resolveKafkaJars } from './kafka-jars';

export { DEFAULT_KAFKA_VERSION, kafkaVersion, resolveKafkaJars } from './kafka-jars';
import { format, prepare } from './kafka-storage';
import {
  cmdline,
  dieWithParent,
  isAlive,
  killHard,
  killedAtExit,
  signal,
  sleep,
  sweepStaleDirsOnce,
  tail,
  terminate,
  waitForStopState,
  writeOwner,
  spawnToLog,
} from './proc';

const STOP_GRACE_MS = 20_000;

export interface KafkaBrokerOptions {
  /** Apache Kafka version (Maven Central coordinates); default `$KAFKA_VERSION` or 3.9.1. */
  version?: string;
  /** PLAINTEXT port on 127.0.0.1; default: a free port. */
  port?: number;
  /** CONTROLLER (KRaft) port on 127.0.0.1; default: a free port. */
  controllerPort?: number;
  /** JVM max heap in MB (default 512). */
  heapMb?: number;
  /** Readiness timeout (default 90 s). */
  startTimeoutMs?: number;
  /** Extra/overriding server.properties entries. */
  properties?: Record<string, string | number | boolean>;
  /**
   * Honour a user-provided `KAFKA_BROKERS` (an external cluster) instead of starting a broker
   * (default true). The harness's own shared broker, which global setup also exports as
   * KAFKA_BROKERS, does not count: `start()` then launches a private broker.
   */
  useEnv?: boolean;
  /** Keep this JSON state file up to date with pid/ports/dir (used for the shared broker). */
  stateFile?: string;
}

/** Everything needed to control (or re-launch) a broker process from another process. */
export interface KafkaBrokerState {
  version: string;
  pid: number;
  port: number;
  controllerPort: number;
  dir: string;
  logFile: string;
  /** argv of the broker process: [java, ...args]; restart re-runs exactly this. */
  command: string[];
  brokers: string[];
  /** pid of the process that owns the broker's lifetime (jest's parent for the shared broker). */
  ownerPid: number;
  startedAt: string;
}

// Safety net for a test that forgot to stop a broker: never leave one (or its dir) behind the
// test process.
const owned = killedAtExit<KafkaBroker>('KafkaBroker', (broker) => broker.killSync());

type Mode = 'owned' | 'shared' | 'external';

/**
 * A single-node Apache Kafka (KRaft, combined broker+controller) run with the machine's `java`
 * from jars resolved via Maven, or a handle on an external cluster (`KAFKA_BROKERS`).
 *
 * Lifecycle: `stop()` stops gracefully but keeps the data dir, `kill()` crashes it, `restart()`
 * (re)starts it on the same ports with the same data; `destroy()` stops and removes the temp dir.
 */
export class KafkaBroker {
  private st?: KafkaBrokerState;

  private constructor(
    private readonly mode: Mode,
    readonly brokers: string[],
    state?: KafkaBrokerState,
    private readonly stateFile?: string,
    private readonly startTimeoutMs = 90_000,
  ) {
    this.st = state;
  }

  /** Starts a broker (or returns the external cluster named by a user-provided KAFKA_BROKERS). */
  static async start(opts: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
    const external = opts.useEnv === false ? undefined : externalBrokersFromEnv();
    if (external) return KafkaBroker.external(external);

    const version = opts.version ?? kafkaVersion();
    const java = javaBinary();
    await sweepStaleDirsOnce();
    const jars = await resolveKafkaJars(version);
    const autoPorts = opts.port === undefined || opts.controllerPort === undefined;
    let lastError: unknown;
    for (let attempt = 1; attempt <= (autoPorts ? 3 : 1); attempt++) {
      const port = opts.port ?? (await freePort());
      let controllerPort = opts.controllerPort ?? (await freePort());
      while (controllerPort === port) controllerPort = await freePort();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-kafka-'));
      const command = prepare({ dir, java, jars, port, controllerPort, version, opts });
      const state: KafkaBrokerState = {
        version,
        pid: 0,
        port,
        controllerPort,
        dir,
        logFile: path.join(dir, 'kafka.log'),
        command,
        brokers: [`127.0.0.1:${port}`],
        ownerPid: process.pid,
        startedAt: '',
      };
      const broker = new KafkaBroker(opts.stateFile ? 'shared' : 'owned', state.brokers, state, opts.stateFile, opts.startTimeoutMs);
      try {
        await format(java, jars, dir);
        await broker.launch();
        return broker;
      } catch (err) {
        lastError = err;
        await broker.destroy({ force: true }).catch(() => undefined);
        if (!/address already in use|BindException/i.test(String((err as Error).message))) break;
      }
    }
    throw lastError;
  }

  /** A handle on a cluster managed elsewhere: only client-side helpers work on it. */
  static external(brokers: string[] | string): KafkaBroker {
    const list = typeof brokers === 'string' ? splitBrokers(brokers) : brokers;
    if (!list.length) throw new Error('KafkaBroker.external(): empty broker list');
    return new KafkaBroker('external', list);
  }

  /**
   * Re-attaches to a broker started by another process (see `state()`): control is by pid, and
   * restart re-runs the recorded command line on the same ports and data dir. With `stateFile`,
   * the pid is re-read before and written after each control operation, so several processes
   * stay in sync; such a broker is "shared" and `destroy()` refuses unless forced.
   */
  static attach(state: KafkaBrokerState, opts: { stateFile?: string } = {}): KafkaBroker {
    return new KafkaBroker(opts.stateFile ? 'shared' : 'owned', state.brokers, { ...state }, opts.stateFile);
  }

  /** Reads a state file written by a broker started with `stateFile`. */
  static readState(file: string): KafkaBrokerState {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as KafkaBrokerState;
  }

  /** True when this harness controls the process (stop/kill/restart/pause work). */
  get controllable(): boolean {
    return this.mode !== 'external';
  }

  get external(): boolean {
    return this.mode === 'external';
  }

  get port(): number {
    return this.requireState('port').port;
  }

  get controllerPort(): number {
    return this.requireState('controllerPort').controllerPort;
  }

  get dir(): string {
    return this.requireState('dir').dir;
  }

  get logFile(): string {
    return this.requireState('logFile').logFile;
  }

  get version(): string | undefined {
    return this.st?.version;
  }

  /** pid of the broker process while it runs (re-read from the state file for the shared broker). */
  get pid(): number | undefined {
    this.refresh();
    return this.livePid();
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** A serialisable snapshot for `KafkaBroker.attach()` in another process. */
  state(): KafkaBrokerState {
    this.refresh();
    return { ...this.requireState('state') };
  }

  /** Graceful stop: SIGTERM, wait; SIGKILL after 20 s. Data dir kept (`restart()` brings it back). */
  async stop(): Promise<void> {
    this.requireControl('stop');
    await terminate(this.pid, STOP_GRACE_MS);
  }

  /** SIGKILL – a crash. Data dir kept. */
  async kill(): Promise<void> {
    this.requireControl('kill');
    await killHard(this.pid);
  }

  /** Stops gracefully if running, then starts the same command again (same ports, same data). */
  async restart(): Promise<void> {
    this.requireControl('restart');
    await terminate(this.pid, STOP_GRACE_MS);
    await this.launch();
  }

  /** SIGSTOP: the broker freezes (connections stay open, requests time out). Resolves once stopped. */
  async pause(): Promise<void> {
    this.requireControl('pause');
    const pid = this.pid;
    if (!pid || !signal(pid, 'SIGSTOP')) throw new Error('KafkaBroker.pause(): broker is not running');
    await waitForStopState(pid, true);
  }

  /** SIGCONT after `pause()`. */
  async resume(): Promise<void> {
    this.requireControl('resume');
    const pid = this.pid;
    if (!pid || !signal(pid, 'SIGCONT')) throw new Error('KafkaBroker.resume(): broker is not running');
    await waitForStopState(pid, false);
  }

  /**
   * Stops the broker and removes its temp dir (and state file). No-op on an external cluster, so
   * it is safe in afterAll. Refuses on the shared broker (global teardown owns it) unless forced.
   */
  async destroy(opts: { force?: boolean } = {}): Promise<void> {
    if (this.mode === 'external') return;
    if (this.mode === 'shared' && !opts.force) {
      throw new Error('KafkaBroker.destroy(): this is the shared broker; global teardown destroys it');
    }
    await terminate(this.pid, STOP_GRACE_MS);
    owned.delete(this);
    if (this.st) fs.rmSync(this.st.dir, { recursive: true, force: true });
    if (this.stateFile) fs.rmSync(this.stateFile, { force: true });
  }

  /** A quiet kafkajs client for this broker/cluster. */
  kafka(config: Partial<KafkaConfig> = {}): Kafka {
    return quietKafka(this.brokers, config);
  }

  /** Creates a topic (no-op if it exists) with optional topic configs, and waits for its partition leaders. */
  async createTopic(name: string, partitions = 3, configs: Record<string, string> = {}): Promise<void> {
    const admin = this.kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: name,
            numPartitions: partitions,
            replicationFactor: this.external ? -1 : 1,
            configEntries: Object.entries(configs).map(([configName, value]) => ({ name: configName, value })),
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
  }

  /** See consumeTopic. */
  consume(topic: string, opts: ConsumeOptions): Promise<ConsumedMessage[]> {
    return consumeTopic(this.kafka(), topic, opts);
  }

  logTail(lines = 40): string {
    return this.st ? tail(this.st.logFile, lines) : '(external cluster: no log)';
  }

  /** @internal synchronous SIGKILL + dir removal for the process exit hook. */
  killSync(): void {
    if (!this.st) return;
    signal(this.livePid(), 'SIGKILL');
    fs.rmSync(this.st.dir, { recursive: true, force: true });
  }

  // -------------------------------------------------------------------------------------------

  /** The recorded pid if it is alive and still this broker (pids get reused). */
  private livePid(): number | undefined {
    const st = this.st;
    if (!st?.pid || !isAlive(st.pid)) return undefined;
    const cmd = cmdline(st.pid);
    return cmd === '' || cmd.includes(st.dir) ? st.pid : undefined;
  }

  private requireState(what: string): KafkaBrokerState {
    if (!this.st) throw new Error(`KafkaBroker.${what}: not available on an external cluster (KAFKA_BROKERS=${this.brokers.join(',')})`);
    return this.st;
  }

  private requireControl(what: string): void {
    if (this.mode === 'external') {
      throw new Error(`KafkaBroker.${what}(): not supported on an external cluster (KAFKA_BROKERS=${this.brokers.join(',')})`);
    }
  }

  /** Picks up a pid written by another process (shared broker restarted elsewhere). */
  private refresh(): void {
    if (!this.stateFile || !this.st) return;
    try {
      const onDisk = KafkaBroker.readState(this.stateFile);
      if (onDisk.dir === this.st.dir) this.st = onDisk;
    } catch {
      /* file gone (teardown): keep what we know */
    }
  }

  private writeStateFile(): void {
    if (!this.stateFile || !this.st) return;
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.st, null, 2) + '\n');
    fs.renameSync(tmp, this.stateFile);
  }

  private async launch(): Promise<void> {
    const st = this.requireState('launch');
    // The kernel kills the broker if its owner dies without tearing it down – but not a shared
    // broker (re)started from a jest worker: it must outlive that worker until global teardown.
    const owner = this.mode === 'owned' || st.ownerPid === process.pid;
    const [java, ...args] = owner ? dieWithParent(st.command) : st.command;
    if (this.livePid()) throw new Error(`KafkaBroker: broker pid ${st.pid} is still running`);
    if (await canConnect(st.port)) throw new Error(`KafkaBroker: port ${st.port} is already taken by another process (Address already in use)`);
    // Not detached: the broker stays in jest's process group, so Ctrl-C reaches it too. unref()
    // lets the starting process exit (teardown stops the shared broker by pid; private ones die
    // with their process via the exit hook).
    const child = await spawnToLog('KafkaBroker', 'broker', [java, ...args], st.dir, st.logFile);
    this.st = { ...st, pid: child.pid, startedAt: new Date().toISOString() };
    if (this.mode === 'owned') {
      owned.add(this);
    }
    writeOwner(st.dir, { ownerPid: st.ownerPid, pid: child.pid });
    this.writeStateFile();
    await this.waitReady(() => child.exitCode !== null || child.signalCode !== null);
  }

  private async waitReady(exited: () => boolean): Promise<void> {
    const st = this.requireState('waitReady');
    const started = Date.now();
    const deadline = started + this.startTimeoutMs;
    let lastError = 'no TCP listener yet';
    while (Date.now() < deadline) {
      if (exited() || !isAlive(st.pid)) {
        throw new Error(`Kafka ${st.version} exited during startup (pid ${st.pid}).\n${this.diagnostics()}`);
      }
      if (await canConnect(st.port)) {
        const admin = this.kafka({ connectionTimeout: 1000, requestTimeout: 5000, retry: { retries: 0 } }).admin();
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length > 0 && cluster.controller !== null) {
            // After a restart, topics that existed get their leaders back a moment later; a
            // consumer that asks in between is told the partition is unknown and crashes.
            const { topics } = await admin.fetchTopicMetadata();
            const leaderless = topics.filter((t) => t.partitions.some((p) => p.leader < 0 || p.partitionErrorCode !== 0)).map((t) => t.name);
            if (leaderless.length === 0) return;
            lastError = `partitions without a leader yet in ${leaderless.slice(0, 3).join(', ')}`;
          } else {
            lastError = `describeCluster: ${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
          }
        } catch (err) {
          lastError = `describeCluster: ${(err as Error).message}`;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      }
      await sleep(250);
    }
    await killHard(st.pid);
    throw new Error(`Kafka ${st.version} on 127.0.0.1:${st.port} not ready within ${this.startTimeoutMs} ms (${lastError}); killed it.\n${this.diagnostics()}`);
  }

  private diagnostics(): string {
    return `--- ${this.st?.logFile} (tail) ---\n${this.logTail(40)}`;
  }
}
