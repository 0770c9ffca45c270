import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fillCacheOnce } from './cache-lock';
import { canConnect, freePort } from './free-port';
import { javaBinary, lastLines, run } from './kafka-jars';
import {
  cmdline,
  dieWithParent,
  isAlive,
  killedAtExit,
  killHard,
  signal,
  sleep,
  sweepStaleDirsOnce,
  tail,
  terminate,
  waitForStopState,
  which,
  writeOwner,
  spawnToLog,
} from './proc';

/*
 * A Confluent-compatible schema registry for the e2e tests: Apicurio Registry, built once from
 * Maven Central into .cache/schema-registry/ (see schema-registry/pom.xml for why it is built
 * rather than downloaded) and run with the machine's java. Its Confluent API is under
 * /apis/ccompat/v7.
 *
 * Cost: the first build resolves about 300 jars and runs Quarkus's augmentation (about 20 s with
 * a warm ~/.m2, 45 s and 208 MB of downloads with an empty one); later starts take about 4 s to
 * the first answer on 2 cores.
 */

export const SCHEMA_REGISTRY_VERSION = '2.4.2.Final';
const PROJECT = path.join(__dirname, 'schema-registry');
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const STOP_GRACE_MS = 10_000;
export const CCOMPAT_PATH = '/apis/ccompat/v7';

export interface SchemaRegistryOptions {
  /** HTTP port on 127.0.0.1; default: a free port. */
  port?: number;
  /** JVM max heap in MB (default 256). */
  heapMb?: number;
  /** Readiness timeout (default 90 s). */
  startTimeoutMs?: number;
}

const owned = killedAtExit<SchemaRegistryServer>('SchemaRegistryServer', (server) => server.killSync());

/**
 * The directory holding the built registry (quarkus-app/), building it with Maven on first use.
 * `SCHEMA_REGISTRY_CACHE` moves the cache, as `KAFKA_JARS_CACHE` does for Kafka.
 */
export async function resolveSchemaRegistryApp(): Promise<string> {
  const root = process.env.SCHEMA_REGISTRY_CACHE || path.join(REPO_ROOT, '.cache', 'schema-registry');
  // Keyed by the build's own files too: a changed pom.xml must not reuse an old build.
  const dir = path.join(root, `${SCHEMA_REGISTRY_VERSION}-${projectHash()}`);
  const runJar = path.join(dir, 'quarkus-app', 'quarkus-run.jar');
  const marker = path.join(dir, '.complete');
  await fillCacheOnce(
    dir,
    'the schema registry',
    () => fs.existsSync(marker) && fs.existsSync(runJar),
    async () => {
      const mvn = which('mvn');
      if (!mvn)
        throw new Error(`mvn not found: the schema registry is not built in ${dir} and Maven is needed to build it – install it: apt-get install -y maven`);
      fs.rmSync(dir, { recursive: true, force: true });
      const build = path.join(dir, 'build');
      fs.cpSync(PROJECT, build, { recursive: true });
      const args = ['-q', '-B', '-Dstyle.color=never', 'package', '-DskipTests', '-Dquarkus.package.type=fast-jar'];
      const started = Date.now();
      const result = await run(mvn, ['-f', path.join(build, 'pom.xml'), ...args], 20 * 60_000);
      const built = path.join(build, 'target', 'quarkus-app');
      if (result.code !== 0 || !fs.existsSync(path.join(built, 'quarkus-run.jar'))) {
        throw new Error(
          `building Apicurio Registry ${SCHEMA_REGISTRY_VERSION} failed: mvn ${args.join(' ')} exited ${result.code}.\n${lastLines(result.output, 40)}`,
        );
      }
      fs.renameSync(built, path.join(dir, 'quarkus-app'));
      fs.rmSync(build, { recursive: true, force: true });
      fs.writeFileSync(marker, `Apicurio Registry ${SCHEMA_REGISTRY_VERSION} built in ${Date.now() - started} ms at ${new Date().toISOString()}\n`);
    },
  );
  return dir;
}

function projectHash(): string {
  const hash = createHash('sha256');
  const files = (fs.readdirSync(PROJECT, { recursive: true }) as string[]).filter((file) => fs.statSync(path.join(PROJECT, file)).isFile()).sort();
  for (const file of files)
    hash
      .update(file)
      .update('\0')
      .update(fs.readFileSync(path.join(PROJECT, file)));
  return hash.digest('hex').slice(0, 12);
}

/**
 * One Apicurio Registry process on 127.0.0.1. Its storage is an H2 database in a temp dir, so
 * `stop()` then `restart()` keeps registered schemas and their ids, as a real registry would.
 */
export class SchemaRegistryServer {
  private pid?: number;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly command: string[],
    private readonly startTimeoutMs: number,
  ) {}

  static async start(opts: SchemaRegistryOptions = {}): Promise<SchemaRegistryServer> {
    const java = javaBinary();
    await sweepStaleDirsOnce();
    const app = await resolveSchemaRegistryApp();
    let lastError: unknown;
    for (let attempt = 1; attempt <= (opts.port === undefined ? 3 : 1); attempt++) {
      const port = opts.port ?? (await freePort());
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-registry-'));
      const command = [
        java,
        `-Xmx${opts.heapMb ?? 256}m`,
        '-XX:TieredStopAtLevel=1',
        `-Dquarkus.http.host=127.0.0.1`,
        `-Dquarkus.http.port=${port}`,
        `-Dquarkus.datasource.jdbc.url=jdbc:h2:file:${path.join(dir, 'registry')}`,
        // The app's defaults keep 20 connections open from the start: a test needs few.
        '-Dquarkus.datasource.jdbc.min-size=1',
        '-Dquarkus.datasource.jdbc.initial-size=1',
        '-jar',
        path.join(app, 'quarkus-app', 'quarkus-run.jar'),
      ];
      const server = new SchemaRegistryServer(port, dir, command, opts.startTimeoutMs ?? 90_000);
      try {
        await server.launch();
        return server;
      } catch (err) {
        lastError = err;
        await server.destroy().catch(() => undefined);
        if (!/address already in use|BindException/i.test(String((err as Error).message))) break;
      }
    }
    throw lastError;
  }

  /** Base URL of the Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
  get url(): string {
    return `http://127.0.0.1:${this.port}${CCOMPAT_PATH}`;
  }

  get logFile(): string {
    return path.join(this.dir, 'registry.log');
  }

  get running(): boolean {
    return this.livePid() !== undefined;
  }

  /** Graceful stop; the data stays for `restart()`. */
  async stop(): Promise<void> {
    await terminate(this.livePid(), STOP_GRACE_MS);
  }

  /** SIGKILL – a crash. */
  async kill(): Promise<void> {
    await killHard(this.livePid());
  }

  /** (Re)starts on the same port with the same data. */
  async restart(): Promise<void> {
    await terminate(this.livePid(), STOP_GRACE_MS);
    await this.launch();
  }

  /** SIGSTOP: connections are accepted by the kernel but never answered. */
  async pause(): Promise<void> {
    const pid = this.livePid();
    if (!pid || !signal(pid, 'SIGSTOP')) throw new Error('SchemaRegistryServer.pause(): not running');
    await waitForStopState(pid, true);
  }

  async resume(): Promise<void> {
    const pid = this.livePid();
    if (!pid || !signal(pid, 'SIGCONT')) throw new Error('SchemaRegistryServer.resume(): not running');
    await waitForStopState(pid, false);
  }

  /** Stops the registry and removes its temp dir; safe in afterAll. */
  async destroy(): Promise<void> {
    await terminate(this.livePid(), STOP_GRACE_MS);
    owned.delete(this);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    return tail(this.logFile, lines);
  }

  /** @internal synchronous SIGKILL + dir removal for the process exit hook. */
  killSync(): void {
    signal(this.livePid(), 'SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private livePid(): number | undefined {
    if (!this.pid || !isAlive(this.pid)) return undefined;
    const cmd = cmdline(this.pid);
    return cmd === '' || cmd.includes(this.dir) ? this.pid : undefined;
  }

  private async launch(): Promise<void> {
    if (await canConnect(this.port)) throw new Error(`SchemaRegistryServer: port ${this.port} is already taken by another process (Address already in use)`);
    const [java, ...args] = dieWithParent(this.command);
    const child = await spawnToLog('SchemaRegistryServer', 'registry', [java, ...args], this.dir, this.logFile);
    this.pid = child.pid;
    owned.add(this);
    writeOwner(this.dir, { ownerPid: process.pid, pid: child.pid });
    await this.waitReady(() => child.exitCode !== null || child.signalCode !== null);
  }

  private async waitReady(exited: () => boolean): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    let lastError = 'no TCP listener yet';
    while (Date.now() < deadline) {
      if (exited() || !isAlive(this.pid)) {
        throw new Error(`Apicurio Registry exited during startup (pid ${this.pid}).\n${this.logTail()}`);
      }
      try {
        const response = await fetch(`${this.url}/subjects`, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return;
        lastError = `GET /subjects: HTTP ${response.status}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(250);
    }
    await killHard(this.pid);
    throw new Error(`Apicurio Registry on 127.0.0.1:${this.port} not ready within ${this.startTimeoutMs} ms (${lastError}); killed it.\n${this.logTail()}`);
  }
}
