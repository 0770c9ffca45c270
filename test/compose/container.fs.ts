import type * as fs from 'node:fs';
import type { ContainerView } from './container.view';

/**
 * node:fs for a jest.mock factory: while `view()` gives a container view, the calls a
 * configuration load makes see the container's file system instead of this machine's.
 * Imports nothing of node:fs itself, so the factory can build it from the actual module.
 */
export function containerFs(actual: typeof fs, view: () => ContainerView | undefined): typeof fs {
  const mapped =
    <A extends unknown[], R>(fn: (path: fs.PathLike, ...rest: A) => R) =>
    (path: fs.PathLike, ...rest: A): R => {
      const current = view();
      if (!current || typeof path !== 'string') return fn(path, ...rest);
      const host = current.hostPath(path);
      if (host === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory in the container, '${path}'`), { code: 'ENOENT' });
      return fn(host, ...rest);
    };
  return {
    ...actual,
    readFileSync: mapped(actual.readFileSync as (p: fs.PathLike, ...r: unknown[]) => unknown),
    accessSync: mapped(actual.accessSync),
    statSync: mapped(actual.statSync as (p: fs.PathLike, ...r: unknown[]) => unknown),
    // The container's path, not the host's, is what the loader compares.
    realpathSync: mapped((p: fs.PathLike) => p),
  } as typeof fs;
}
