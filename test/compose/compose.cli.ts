import { spawnSync } from 'node:child_process';

/** The project's compose stack driven through whichever compose this machine has. */
export class ComposeCli {
  private constructor(
    private readonly command: string[],
    private readonly project: string,
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly describe: string,
  ) {}

  /**
   * Compose v2 (`docker compose`) or v1 (`docker-compose`), or the reason neither can run:
   * no docker client, no engine answering, no compose.
   */
  static find(project: string, dir: string, env: NodeJS.ProcessEnv): ComposeCli | { skip: string } {
    const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
    if (info.error) return { skip: `no docker client (${info.error.message})` };
    if (info.status !== 0) return { skip: `no Docker engine answering (${(info.stderr || info.stdout).trim().split('\n').pop()})` };
    for (const command of [['docker', 'compose'], ['docker-compose']]) {
      const version = spawnSync(command[0], [...command.slice(1), 'version', '--short'], { encoding: 'utf8' });
      if (!version.error && version.status === 0) {
        return new ComposeCli(command, project, dir, env, `${command.join(' ')} ${version.stdout.trim()}, engine ${info.stdout.trim()}`);
      }
    }
    return { skip: 'neither `docker compose` nor `docker-compose` is installed' };
  }

  /** Runs a compose command; throws with its output when it fails. */
  run(...args: string[]): string {
    const result = spawnSync(this.command[0], [...this.command.slice(1), '-p', this.project, ...args], {
      encoding: 'utf8',
      cwd: this.dir,
      env: this.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) {
      throw new Error(
        `${this.command.join(' ')} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${(result.stdout + result.stderr).split('\n').slice(-30).join('\n')}`,
      );
    }
    return result.stdout;
  }

  /** Container id of a service, undefined when it has none. */
  container(service: string): string | undefined {
    return this.run('ps', '-q', service).trim() || undefined;
  }

  /** Health status of a service's container (`healthy`, `starting`, `unhealthy`), or its state. */
  health(service: string): string {
    const id = this.container(service);
    if (!id) return 'absent';
    const inspect = spawnSync('docker', ['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}', id], {
      encoding: 'utf8',
    });
    return inspect.stdout.trim();
  }

  /** Exit code of a stopped service's container. */
  exitCode(service: string): number {
    const id = this.run('ps', '-a', '-q', service).trim();
    return Number(spawnSync('docker', ['inspect', '--format', '{{.State.ExitCode}}', id], { encoding: 'utf8' }).stdout.trim());
  }

  async waitHealthy(services: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = services.map((s) => [s, this.health(s)] as const);
      if (states.every(([, state]) => state === 'healthy')) return;
      if (Date.now() > deadline) {
        throw new Error(
          `not healthy after ${timeoutMs / 1000} s: ${states.map(([s, state]) => `${s}=${state}`).join(', ')}\n${this.run('logs', '--tail', '20')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}
