import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { MachineInfo } from './results';

/** `mosquitto -h` prints "mosquitto version X.Y.Z" first (and exits non-zero). */
export function mosquittoVersion(bin = 'mosquitto'): string {
  const paths = [bin, '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'];
  for (const candidate of paths) {
    const r = spawnSync(candidate, ['-h'], { encoding: 'utf8', timeout: 5_000 });
    const match = /mosquitto version (\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    if (match) return match[1];
  }
  return 'unknown';
}

export function machineInfo(opts: {
  kafkaVersion: string;
  mosquittoVersion: string;
  kafkaBrokers: string;
  mqttUrl: string;
  idleNodeRssMb?: number;
  idleTsNodeRssMb?: number;
}): MachineInfo {
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ...opts,
  };
}
