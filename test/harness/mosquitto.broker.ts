import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canConnect, freePort } from './free-port';
import {
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
  which,
  writeOwner,
} from './proc';

export interface MosquittoOptions {
  /** Listen port on 127.0.0.1; default: a free port. */
  port?: number;
  /** Persist sessions/queued messages to a per-broker temp dir (default true). */
  persistence?: boolean;
  /**
   * mosquitto `autosave_interval` in seconds. Unset: mosquitto's default (1800 s), i.e. the database
   * is only written on a graceful stop – state queued since then is lost by `kill()`.
   */
  autosaveIntervalSec?: number;
  /** Extra raw lines appended to mosquitto.conf (e.g. `max_inflight_messages 1`). */
  extraConfig?: string[];
  /** How long to wait for the listener (default 15 s). */
  startTimeoutMs?: number;
  /** A second listener on 127.0.0.1:<free port> speaking TLS with these PEM files (`tlsUrl`). */
  tls?: MosquittoTlsListener;
  /** `allow_anonymous` (default true); false with a `password_file` in extraConfig to require credentials. */
  allowAnonymous?: boolean;
}

export interface MosquittoTlsListener {
  cafile: string;
  certfile: string;
  keyfile: string;
  /** Ask clients for a certificate signed by `cafile` (default false). */
  requireCertificate?: boolean;
}

/** `MQTT_URL` from the environment (an externally managed broker), or undefined. */
export function mqttUrlFromEnv(): string | undefined {
  const url = process.env.MQTT_URL?.trim();
  return url ? url : undefined;
}

const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/opt/homebrew/sbin'];

function mosquittoBinary(): string {
  const configured = process.env.MOSQUITTO_BIN;
  const bin = which(configured || 'mosquitto', SBIN_DIRS);
  if (!bin) {
    throw new Error(
      `mosquitto binary not found (${configured ? `MOSQUITTO_BIN=${configured}` : `looked on PATH and in ${SBIN_DIRS.join(', ')}`}); ` +
        'install it: apt-get install -y mosquitto',
    );
  }
  return bin;
}

// Safety net for a test that forgot to stop a broker: never leave one (or its dir) behind the
// test process.
const live = killedAtExit<MosquittoBroker>('MosquittoBroker', (broker) => broker.killSync());

/**
 * A private mosquitto process on 127.0.0.1:<free port>, configured from a generated mosquitto.conf
 * in its own temp dir (persistence db and log live there too).
 *
 * Lifecycle: `stop()` stops gracefully (database saved) and `kill()` crashes it, both keeping the
 * temp dir; `restart()` (re)starts it on the same port with the same persistence dir, after a
 * graceful stop if it is running; `destroy()` stops it and removes the dir. A broker left running
 * is killed (and its dir removed) when the process that started it exits.
 */
export class MosquittoBroker {
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly persistence: boolean;
  private child?: ChildProcess;
  private destroyed = false;
  private tlsPortValue?: number;

  private constructor(
    private portValue: number,
    private readonly opts: MosquittoOptions,
  ) {
    this.persistence = opts.persistence ?? true;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-mosquitto-'));
    this.configFile = path.join(this.dir, 'mosquitto.conf');
    this.logFile = path.join(this.dir, 'mosquitto.log');
  }

  static async start(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
    const bin = mosquittoBinary();
    await sweepStaleDirsOnce();
    const attempts = opts.port ? 1 : 3;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const broker = new MosquittoBroker(opts.port ?? (await freePort()), opts);
      try {
        await broker.launch(bin);
        return broker;
      } catch (err) {
        lastError = err;
        await broker.destroy().catch(() => undefined);
        // Only a lost race for an auto-picked port is worth another try.
        if (!/address already in use/i.test(String((err as Error).message))) break;
      }
    }
    throw lastError;
  }

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.portValue}`;
  }

  /** The TLS listener's URL; only with the `tls` option. */
  get tlsUrl(): string {
    if (this.tlsPortValue === undefined) throw new Error('MosquittoBroker.tlsUrl: started without the tls option');
    return `mqtts://127.0.0.1:${this.tlsPortValue}`;
  }

  /** pid of the mosquitto process while it runs. */
  get pid(): number | undefined {
    const child = this.child;
    // Once Node has reaped the child its pid may be reused: only trust it while no exit was seen.
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return undefined;
    return isAlive(child.pid) ? child.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /**
   * Graceful stop: SIGTERM (mosquitto saves its persistence database), wait for the exit; SIGKILL
   * after 10 s. The temp dir is kept: `restart()` brings the broker back with the same sessions.
   */
  async stop(): Promise<void> {
    await this.halt();
  }

  /** SIGKILL – a crash: nothing is saved since the last autosave. The dir stays for `restart()`. */
  async kill(): Promise<void> {
    await killHard(this.pid);
  }

  /** Stops gracefully if running, then starts again on the same port with the same persistence dir. */
  async restart(): Promise<void> {
    if (this.destroyed) throw new Error('MosquittoBroker.restart(): broker was destroyed');
    await this.halt();
    await this.launch(mosquittoBinary());
  }

  /** Stops the broker and removes its temp dir (final; for afterAll). Idempotent. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.halt();
    live.delete(this);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGSTOP: the broker freezes (TCP connections stay open, nothing is answered). Resolves once stopped. */
  async pause(): Promise<void> {
    const pid = this.pid;
    if (!pid || !signal(pid, 'SIGSTOP')) throw new Error('MosquittoBroker.pause(): broker is not running');
    await waitForStopState(pid, true);
  }

  /** SIGCONT after `pause()`. */
  async resume(): Promise<void> {
    const pid = this.pid;
    if (!pid || !signal(pid, 'SIGCONT')) throw new Error('MosquittoBroker.resume(): broker is not running');
    await waitForStopState(pid, false);
  }

  /** The last lines of mosquitto's log (for assertion messages). */
  logTail(lines = 40): string {
    return tail(this.logFile, lines);
  }

  /** @internal synchronous SIGKILL + dir removal for the process exit hook. */
  killSync(): void {
    signal(this.pid, 'SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private writeConfig(): void {
    const dataDir = path.join(this.dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const lines = [
      '# generated by test/harness/mosquitto.broker.ts',
      // Run as the current user: as root, mosquitto would otherwise drop to user "mosquitto",
      // which cannot write the log/persistence files in our private temp dir.
      `user ${os.userInfo().username}`,
      `listener ${this.portValue} 127.0.0.1`,
      `allow_anonymous ${this.opts.allowAnonymous ?? true}`,
      // Per-client queue for offline persistent sessions (and above in-flight for online ones).
      // Default is 1000 – far too low for a 10,000 message backlog; 0 bytes = no byte limit.
      'max_queued_messages 100000',
      'max_queued_bytes 0',
      // Outgoing QoS 1/2 messages in flight per client (mosquitto default 20). The rest is queued,
      // not dropped, so this only shapes delivery, and stays at the production default.
      'max_inflight_messages 20',
      'set_tcp_nodelay true',
      `log_dest file ${this.logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'log_timestamp_format %Y-%m-%dT%H:%M:%S',
      'connection_messages true',
    ];
    if (this.persistence) {
      lines.push('persistence true', `persistence_location ${dataDir}${path.sep}`);
      if (this.opts.autosaveIntervalSec !== undefined) lines.push(`autosave_interval ${this.opts.autosaveIntervalSec}`);
    } else {
      lines.push('persistence false');
    }
    const tls = this.opts.tls;
    if (tls && this.tlsPortValue !== undefined) {
      // Listener options apply to the listener above them.
      lines.push(
        `listener ${this.tlsPortValue} 127.0.0.1`,
        `cafile ${tls.cafile}`,
        `certfile ${tls.certfile}`,
        `keyfile ${tls.keyfile}`,
        `require_certificate ${tls.requireCertificate ?? false}`,
      );
    }
    lines.push(...(this.opts.extraConfig ?? []));
    fs.writeFileSync(this.configFile, lines.join('\n') + '\n');
  }

  private async launch(bin: string): Promise<void> {
    // Our readiness probe cannot tell our listener from someone else's: refuse a taken port.
    if (await canConnect(this.portValue)) {
      throw new Error(`mosquitto: 127.0.0.1:${this.portValue} is already taken by another process (Address already in use)`);
    }
    if (this.opts.tls) this.tlsPortValue ??= await freePort();
    this.writeConfig();
    // stdout/stderr (e.g. config errors before the log file is opened) go to a file as well.
    const out = fs.openSync(path.join(this.dir, 'mosquitto.stdout'), 'a');
    // Killed by the kernel if this process dies without cleaning up (crash, SIGKILL).
    const [cmd, ...args] = dieWithParent([bin, '-c', this.configFile]);
    const child = spawn(cmd, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.unref();
    this.child = child;
    live.add(this);
    if (child.pid) writeOwner(this.dir, { ownerPid: process.pid, pid: child.pid });
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));

    const timeoutMs = this.opts.startTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError) throw new Error(`mosquitto could not be spawned (${bin}): ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `mosquitto exited during startup (code ${child.exitCode}, signal ${child.signalCode}) on port ${this.portValue}.\n` + this.diagnostics(),
        );
      }
      if ((await canConnect(this.portValue)) && (this.tlsPortValue === undefined || (await canConnect(this.tlsPortValue)))) return;
      if (Date.now() >= deadline) {
        await killHard(child.pid);
        throw new Error(`mosquitto did not accept connections on 127.0.0.1:${this.portValue} within ${timeoutMs} ms.\n${this.diagnostics()}`);
      }
      await sleep(50);
    }
  }

  private diagnostics(): string {
    return `--- ${this.logFile} (tail) ---\n${tail(this.logFile, 30)}\n` + `--- stdout/stderr ---\n${tail(path.join(this.dir, 'mosquitto.stdout'), 10)}`;
  }

  private async halt(): Promise<void> {
    await terminate(this.pid, 10_000);
  }
}
