import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel, type IHeaders, type KafkaConfig } from 'kafkajs';
import { canConnect, freePort } from './free-port';
import { cmdline, dieWithParent, isAlive, killHard, killedAtExit, signal, sleep, sweepStaleDirsOnce, tail, terminate, waitForStopState, which, writeOwner } from './proc';

export const DEFAULT_KAFKA_VERSION = '3.9.1';
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const POM = path.join(__dirname, 'kafka', 'pom.xml');
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

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface ConsumeOptions {
  /** Resolve once this many messages arrived. */
  count: number;
  /** Reject after this long (default 30 s) with how many arrived. */
  timeoutMs?: number;
  /** After `count` arrived, keep listening this long to catch extra (e.g. duplicate) messages (default 0). */
  settleMs?: number;
}

/**
 * `KAFKA_BROKERS` when it names a cluster provided by the user (not the one the harness's global
 * setup started and exported), as a list; undefined otherwise.
 */
export function externalBrokersFromEnv(): string[] | undefined {
  const value = process.env.KAFKA_BROKERS?.trim();
  if (!value || value === process.env.BRIDGE_E2E_KAFKA_SHARED) return undefined;
  return splitBrokers(value);
}

export function splitBrokers(value: string): string[] {
  return value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** A kafkajs client for `brokers` that keeps quiet (no retry/connection log spam in test output). */
export function quietKafka(brokers: string[], config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: `harness-${process.pid}`,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    ...config,
  });
}

// ---------------------------------------------------------------------------------------------
// jars

function javaBinary(): string {
  const fromHome = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const java = (fromHome && which(fromHome)) || which('java');
  if (!java) {
    throw new Error(
      'java not found (JAVA_HOME unset or invalid, and no java on PATH): Kafka needs a Java 17+ runtime – ' +
        'install it: apt-get install -y openjdk-17-jre-headless',
    );
  }
  return java;
}

function jarsCacheRoot(): string {
  return process.env.KAFKA_JARS_CACHE || path.join(REPO_ROOT, '.cache', 'kafka-jars');
}

function scalaBinary(): string {
  return process.env.KAFKA_SCALA_BINARY || '2.13';
}

/**
 * The directory holding every runtime jar of Kafka `version`, downloading it with Maven on first use.
 * A `.complete` marker is written after a successful copy; a dir without it is redone. Concurrent
 * callers (several jest workers) serialise on a lock directory.
 */
export async function resolveKafkaJars(version: string = kafkaVersion()): Promise<string> {
  const dir = path.join(jarsCacheRoot(), version);
  const marker = path.join(dir, '.complete');
  const mainJar = path.join(dir, `kafka_${scalaBinary()}-${version}.jar`);
  const ready = () => fs.existsSync(marker) && fs.existsSync(mainJar);
  if (ready()) return dir;

  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  const lockDeadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (ready()) return dir;
      const lockTime = fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - lockTime > 10 * 60_000) fs.rmSync(lock, { recursive: true, force: true }); // stale: its owner died
      if (Date.now() > lockDeadline) throw new Error(`timed out waiting for ${lock} (another process resolving Kafka jars?)`);
      await sleep(500);
    }
  }
  try {
    if (ready()) return dir;
    const mvn = which('mvn');
    if (!mvn) {
      throw new Error(
        `mvn not found: the Kafka ${version} jars are not cached in ${dir} and Maven is needed to fetch them from Maven Central – ` +
          'install it: apt-get install -y maven (or point KAFKA_JARS_CACHE at a directory that already holds <version>/ with the jars)',
      );
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const args = [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      POM,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${dir}`,
      `-Dkafka.version=${version}`,
      `-Dscala.binary=${scalaBinary()}`,
    ];
    if (process.env.KAFKA_SLF4J_SIMPLE_VERSION) args.push(`-Dslf4j.simple.version=${process.env.KAFKA_SLF4J_SIMPLE_VERSION}`);
    const started = Date.now();
    const result = await run(mvn, args, 15 * 60_000);
    if (result.code !== 0 || !fs.existsSync(mainJar)) {
      throw new Error(
        `resolving Kafka ${version} jars failed: mvn ${args.join(' ')} exited ${result.code}` +
          `${fs.existsSync(mainJar) ? '' : ` and ${mainJar} is missing`}.\n${lastLines(result.output, 40)}`,
      );
    }
    fs.writeFileSync(marker, `kafka ${version} jars resolved in ${Date.now() - started} ms at ${new Date().toISOString()}\n`);
    return dir;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export function kafkaVersion(): string {
  return process.env.KAFKA_VERSION?.trim() || DEFAULT_KAFKA_VERSION;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

// ---------------------------------------------------------------------------------------------
// broker

/** Kafka's Uuid text form: 16 random bytes, base64url without padding; never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
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

  /** Creates a topic (no-op if it exists) and waits for its partition leaders. */
  async createTopic(name: string, partitions = 3): Promise<void> {
    const admin = this.kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic: name, numPartitions: partitions, replicationFactor: this.external ? -1 : 1 }],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Reads `topic` from the beginning with a fresh consumer group until `count` messages arrived
   * (plus `settleMs` to catch extras). Rejects after `timeoutMs` saying how many arrived. A topic
   * that does not exist yet is waited for (not created: whatever is under test has to do that).
   */
  async consume(topic: string, opts: ConsumeOptions): Promise<ConsumedMessage[]> {
    const { count, timeoutMs = 30_000, settleMs = 0 } = opts;
    const groupId = `harness-consume-${randomBytes(6).toString('hex')}`;
    const consumer = this.kafka().consumer({
      groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { retries: 10 },
    });
    const messages: ConsumedMessage[] = [];
    let topicSeen = false;
    let finished = false;
    let reached: () => void = () => undefined;
    const countReached = new Promise<void>((resolve) => (reached = resolve));
    let timer: NodeJS.Timeout | undefined;
    let crashed: (err: Error) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => {
      crashed = reject;
      timer = setTimeout(() => {
        const why = topicSeen ? '' : ' (the topic never appeared)';
        reject(new Error(`consume(${topic}): timed out after ${timeoutMs} ms with ${messages.length} of ${count} message(s) received${why}`));
      }, timeoutMs);
    });
    failure.catch(() => undefined);
    const removeCrashListener = consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) crashed(new Error(`consume(${topic}): consumer crashed: ${event.payload.error.message}`));
    });

    const subscribeWhenTopicExists = async () => {
      for (;;) {
        try {
          await consumer.subscribe({ topic, fromBeginning: true });
          topicSeen = true;
          return;
        } catch (err) {
          const type = (err as { type?: string }).type;
          if (finished || (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE')) throw err;
          await sleep(200);
        }
      }
    };

    try {
      await Promise.race([
        (async () => {
          await consumer.connect();
          await subscribeWhenTopicExists();
          await consumer.run({
            eachMessage: async ({ topic: t, partition, message }) => {
              messages.push({
                topic: t,
                partition,
                offset: message.offset,
                timestamp: message.timestamp,
                key: message.key,
                value: message.value,
                headers: message.headers ?? {},
              });
              if (messages.length >= count) reached();
            },
          });
        })(),
        failure,
      ]);
      if (count <= 0) reached();
      await Promise.race([countReached, failure]);
      if (settleMs > 0) await Promise.race([sleep(settleMs), failure]);
      return [...messages];
    } finally {
      finished = true;
      clearTimeout(timer);
      removeCrashListener();
      await consumer.disconnect().catch(() => undefined);
    }
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
    const out = fs.openSync(st.logFile, 'a');
    fs.writeSync(out, `\n===== harness: starting broker at ${new Date().toISOString()} =====\n`);
    // Not detached: the broker stays in jest's process group, so Ctrl-C reaches it too. Its stdio
    // goes to the log file (never the test's console), and unref() lets the starting process exit
    // (teardown stops the shared broker by pid; private ones die with their process via the exit hook).
    const child = spawn(java, args, { cwd: st.dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.unref();
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    if (!child.pid) {
      await sleep(0);
      throw new Error(`KafkaBroker: could not spawn ${java}: ${spawnError?.message ?? 'unknown error'}`);
    }
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
          if (cluster.brokers.length > 0 && cluster.controller !== null) return;
          lastError = `describeCluster: ${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
        } catch (err) {
          lastError = `describeCluster: ${(err as Error).message}`;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      }
      await sleep(250);
    }
    await killHard(st.pid);
    throw new Error(
      `Kafka ${st.version} on 127.0.0.1:${st.port} not ready within ${this.startTimeoutMs} ms (${lastError}); killed it.\n${this.diagnostics()}`,
    );
  }

  private diagnostics(): string {
    return `--- ${this.st?.logFile} (tail) ---\n${this.logTail(40)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// files & formatting

interface PrepareArgs {
  dir: string;
  java: string;
  jars: string;
  port: number;
  controllerPort: number;
  version: string;
  opts: KafkaBrokerOptions;
}

/** Writes server.properties + logging configs into `dir`; returns the broker's argv. */
function prepare({ dir, java, jars, port, controllerPort, version, opts }: PrepareArgs): string[] {
  const major = Number.parseInt(version, 10);
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': path.join(dir, 'data'),
    'num.partitions': 3,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    // one partition instead of 50: the first consumer group of a run is ready much sooner
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': true,
    'delete.topic.enable': true,
    // small machine: fewer threads, small cleaner buffer (default 128 MB of a 512 MB heap)
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 4,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    'log.flush.interval.messages': Number.MAX_SAFE_INTEGER,
    'log.retention.check.interval.ms': 300_000,
    // quick (re)start and shutdown on a single node
    'controlled.shutdown.enable': true,
    'controller.quorum.election.timeout.ms': 1000,
    'controller.quorum.fetch.timeout.ms': 2000,
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 6000,
    'log.segment.bytes': 64 * 1024 * 1024,
  };
  if (major >= 4) {
    props['share.coordinator.state.topic.replication.factor'] = 1;
    props['share.coordinator.state.topic.min.isr'] = 1;
  }
  Object.assign(props, opts.properties ?? {});
  const serverProps = path.join(dir, 'server.properties');
  fs.writeFileSync(
    serverProps,
    '# generated by test/harness/kafka.broker.ts\n' +
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') +
      '\n',
  );
  // 4.x pulls log4j-core 2 (log-level controller only; logging itself goes through SLF4J): keep it quiet.
  const log4j2 = path.join(dir, 'log4j2.properties');
  fs.writeFileSync(
    log4j2,
    ['status = error', 'appender.err.type = Console', 'appender.err.name = ERR', 'appender.err.target = SYSTEM_ERR',
      'appender.err.layout.type = PatternLayout', 'appender.err.layout.pattern = %d{HH:mm:ss.SSS} %p %c - %m%n',
      'rootLogger.level = warn', 'rootLogger.appenderRef.err.ref = ERR', ''].join('\n'),
  );
  return [
    java,
    `-Xmx${opts.heapMb ?? 512}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    ...loggingFlags(log4j2),
    '-cp',
    `${jars}${path.sep}*`,
    'kafka.Kafka',
    serverProps,
  ];
}

/** slf4j-simple to stderr (= the log file): WARN and up, plus the lines that tell startup progress. */
function loggingFlags(log4j2: string): string[] {
  return [
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info',
    '-Dorg.slf4j.simpleLogger.log.kafka.server.BrokerServer=info',
    '-Dorg.slf4j.simpleLogger.log.kafka.server.ControllerServer=info',
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
    '-Dorg.slf4j.simpleLogger.showThreadName=false',
    '-Dorg.slf4j.simpleLogger.showShortLogName=true',
    `-Dlog4j2.configurationFile=${log4j2}`,
    '-Dlog4j2.disable.jmx=true',
  ];
}

const STORAGE_TOOL_CLASSES = ['kafka.tools.StorageTool', 'org.apache.kafka.tools.StorageTool'];

/** `StorageTool format -t <random cluster id> -c server.properties` (class name per version). */
async function format(java: string, jars: string, dir: string): Promise<void> {
  const logFile = path.join(dir, 'kafka.log');
  const serverProps = path.join(dir, 'server.properties');
  const id = clusterId();
  let output = '';
  for (const main of STORAGE_TOOL_CLASSES) {
    const r = await run(java, [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      `-Dlog4j2.configurationFile=${path.join(dir, 'log4j2.properties')}`,
      '-cp',
      `${jars}${path.sep}*`,
      main,
      'format',
      '-t',
      id,
      '-c',
      serverProps,
    ], 120_000);
    output = r.output;
    fs.appendFileSync(logFile, `===== harness: ${main} format -t ${id} (exit ${r.code}) =====\n${r.output}\n`);
    if (r.code === 0) return;
    if (!/Could not find or load main class|ClassNotFoundException/.test(r.output)) break;
  }
  throw new Error(`formatting the Kafka storage in ${dir} failed:\n${lastLines(output, 30)}`);
}
