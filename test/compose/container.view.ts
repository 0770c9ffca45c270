import { posix } from 'node:path';

/**
 * A container's file system as seen from the host: container paths under a mount (or a
 * directory the image copied from the build context) map to host paths, the longest mount
 * first; everything else does not exist in the container.
 */
export class ContainerView {
  private readonly mounts: Array<[container: string, host: string]>;

  constructor(mounts: Array<[container: string, host: string]>) {
    this.mounts = [...mounts].sort((a, b) => b[0].length - a[0].length);
  }

  /** The host path of a container path, or undefined when the container has no such file. */
  hostPath(containerPath: string): string | undefined {
    const path = posix.normalize(containerPath);
    for (const [container, host] of this.mounts) {
      if (path === container) return host;
      if (path.startsWith(`${container}/`)) return posix.join(host, path.slice(container.length + 1));
    }
    return undefined;
  }
}
