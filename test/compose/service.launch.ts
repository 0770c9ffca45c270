import { posix } from 'node:path';
import type { ConfigRole } from '@app/bridge-config';
import { ComposeFile, ComposeService, ImageSpec } from './compose.file';

/** How a compose service runs the project's image: which program, on which file, with what. */
export interface ServiceLaunch {
  service: string;
  role: ConfigRole;
  /** Container path of the configuration file. */
  configFile: string;
  env: Record<string, string>;
  /** Secret names, mounted at /run/secrets/<name>. */
  secrets: string[];
}

const PROGRAMS: Record<string, ConfigRole> = {
  'dist/apps/bridge/src/main.js': 'worker',
  'dist/apps/admin/src/main.js': 'admin',
};

/** The services that run the project's image: built from this directory, or its image by name. */
export function projectServices(compose: ComposeFile): ComposeService[] {
  const built = new Set(
    compose.services
      .filter((s) => s.build !== undefined)
      .map((s) => s.image)
      .filter(Boolean),
  );
  return compose.services.filter((s) => s.build !== undefined || (s.image !== undefined && built.has(s.image)));
}

/**
 * Resolves entry point and command as Docker does (a service's entrypoint drops the image's
 * CMD), then the file each program reads: its argument, else $BRIDGE_CONFIG, else the default.
 */
export function launchOf(service: Pick<ComposeService, 'name' | 'entrypoint' | 'command' | 'environment' | 'secrets'>, image: ImageSpec): ServiceLaunch {
  const entrypoint = service.entrypoint ?? image.entrypoint;
  const command = service.command ?? (service.entrypoint ? [] : image.cmd);
  const [program, script, ...entryArgs] = entrypoint;
  const role = program === 'node' ? PROGRAMS[script] : undefined;
  if (!role) throw new Error(`${service.name}: runs ${JSON.stringify(entrypoint)}, not a bridge or admin program`);
  const args = [...entryArgs, ...command];
  const env = { ...image.env, ...service.environment };
  const verb = role === 'worker' ? ['run', 'validate'] : ['serve'];
  if (role === 'worker' && args.length > 0 && !verb.includes(args[0])) throw new Error(`${service.name}: the worker has no command ${JSON.stringify(args[0])}`);
  const fileArg = verb.includes(args[0]) ? args[1] : args[0];
  const file = fileArg ?? env.BRIDGE_CONFIG ?? 'config/bridge.yaml';
  return { service: service.name, role, configFile: posix.resolve(image.workdir, file), env, secrets: service.secrets };
}
