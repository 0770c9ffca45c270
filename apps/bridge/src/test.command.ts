import { Environment } from '@app/config';
import { runRuleTestFiles } from '@app/worker';
import { UsageError } from './keys.command';

export const TEST_USAGE = `  test <file> <cases.yaml>
                    run rule test cases without brokers (docs/transforms.md); exit 1 if one fails`;

/** `bridge test`: runs a case file against a configuration; results on stdout, file problems on stderr. */
export async function testCommand(args: readonly string[], env: Environment, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  if (args.length !== 2) throw new UsageError();
  const [configFile, casesFile] = args;
  return runRuleTestFiles(configFile, casesFile, env, { out, err });
}
