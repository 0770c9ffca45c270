import { ConfigError, Environment } from '@app/config';
import { InvalidRequestError } from '@app/admin';
import { keyUsage, loadBridgeConfig } from '@app/pipeline';

/**
 * The admin service's view of the bridge configuration: which rules use which key (delete and
 * purge are refused for keys in use), refreshed by POST /v1/reload.
 */
export class AdminConfigHolder {
  private usage: ReadonlyMap<string, readonly string[]>;

  constructor(
    private readonly file: string,
    private readonly env: Environment,
    initial: Map<string, string[]>,
  ) {
    this.usage = initial;
  }

  keyUsage(): ReadonlyMap<string, readonly string[]> {
    return this.usage;
  }

  /** Rereads the file; a broken one is a 400 listing its problems, and the old view stays. */
  async reload(): Promise<number> {
    try {
      const loaded = await loadBridgeConfig(this.file, this.env);
      this.usage = keyUsage(loaded.config);
      return loaded.rules.length;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new InvalidRequestError(error.problems.map((p) => ({ field: p.path, message: `${p.file}:${p.line}:${p.column} ${p.message}` })));
    }
  }
}
