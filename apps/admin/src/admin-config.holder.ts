import { ConfigError, Environment } from '@app/config';
import { InvalidRequestError, TokenAuthenticator } from '@app/admin';
import { keyUsage, loadBridgeConfig } from '@app/bridge-config';

/**
 * The admin service's view of the bridge configuration: which rules use which key (delete and
 * purge are refused for keys in use) and which tokens are valid, refreshed by POST /v1/reload.
 */
export class AdminConfigHolder {
  private usage: ReadonlyMap<string, readonly string[]>;

  constructor(
    private readonly file: string,
    private readonly env: Environment,
    initial: Map<string, string[]>,
    private readonly authenticator: TokenAuthenticator,
  ) {
    this.usage = initial;
  }

  keyUsage(): ReadonlyMap<string, readonly string[]> {
    return this.usage;
  }

  /** Rereads the file; a broken one is a 400 listing its problems, and the old view stays. */
  async reload(): Promise<number> {
    try {
      const loaded = await loadBridgeConfig(this.file, this.env, 'admin');
      if (!loaded.config.admin || !loaded.secrets.adminTokens) {
        throw new InvalidRequestError([{ field: 'admin', message: `${this.file} no longer has an admin section; the running configuration stays` }]);
      }
      this.usage = keyUsage(loaded.config);
      this.authenticator.replace(loaded.secrets.adminTokens);
      return loaded.rules.length + loaded.config.fromKafka.length;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new InvalidRequestError(error.problems.map((p) => ({ field: p.path, message: `${p.file}:${p.line}:${p.column} ${p.message}` })));
    }
  }
}
