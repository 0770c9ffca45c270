import { Environment } from '@app/config';
import { KafkaClientFactory } from '@app/kafka';
import { MqttClientFactory } from '@app/mqtt';
import { loadBridgeConfig } from '@app/bridge-config';
import { BridgeWorker } from '@app/worker';
import { UsageError } from './keys.command';

export const REPLAY_USAGE = `  replay <file> <rule> [--dry-run] [--limit N]
                    feed a rule's dead letters back through its transform and destinations`;

/** `bridge replay`: parses its arguments and prints one line per dead letter, then a summary. */
export async function replayCommand(args: readonly string[], env: Environment, out: (line: string) => void): Promise<number> {
  const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--limit');
  const [file, rule] = positional;
  const limitAt = args.indexOf('--limit');
  const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : undefined;
  if (!file || !rule || (limit !== undefined && !(Number.isInteger(limit) && limit > 0))) throw new UsageError();
  const dryRun = args.includes('--dry-run');
  const loaded = await loadBridgeConfig(file, env);
  const worker = new BridgeWorker(loaded, new MqttClientFactory(), new KafkaClientFactory());
  const report = await worker.replay(rule, { dryRun, limit }, (l) => out(`${l.partition}:${l.offset}\t${l.topic}\t${l.result}\t${l.detail}`));
  out(
    `${dryRun ? 'dry run: ' : ''}${report.replayed} dead letter(s) of rule ${rule} replayed ` +
      `(${report.delivered} ${dryRun ? 'would be delivered' : 'delivered'}, ${report.failed} ${dryRun ? 'would fail' : 'dead-lettered again'}), ${report.examined} examined`,
  );
  return 0;
}
