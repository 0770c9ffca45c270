import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canConnect, freePort } from './free-port';
import { dieWithParent, killedAtExit, sleep, tail, terminate, which } from './proc';

// A test that forgot to stop its server must not leave it running behind the test process.
const live = killedAtExit<NatsServer>('NatsServer', (server) => server.killSync());

/**
 * A private nats-server on 127.0.0.1:<free port>, for tests that need a configuration of their
 * own (TLS, users) rather than the shared NATS on :4222. `config` is the body of its
 * configuration file after the listen line; the log and the file go to `dir`, which the caller
 * owns.
 */
export class NatsServer {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(dir: string, config: string, timeoutMs = 15_000): Promise<NatsServer> {
    const bin = which(process.env.NATS_SERVER_BIN || 'nats-server', ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin']);
    if (!bin) throw new Error('nats-server binary not found (set NATS_SERVER_BIN or install it)');
    const port = await freePort();
    const file = path.join(dir, `nats-${port}.conf`);
    fs.writeFileSync(file, `listen: 127.0.0.1:${port}\n${config}\n`);
    const log = path.join(dir, `nats-${port}.log`);
    const [cmd, ...args] = dieWithParent([bin, '-c', file, '-l', log]);
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.unref();
    const server = new NatsServer(port, dir, child);
    live.add(server);
    const deadline = Date.now() + timeoutMs;
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.stop();
        throw new Error(`nats-server did not start on port ${port}:\n${tail(log, 20)}`);
      }
      await sleep(50);
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    live.delete(this);
    await terminate(this.child.pid, 5_000);
  }

  /** @internal for the exit hook. */
  killSync(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
