import { BridgeError } from '@app/core';

/** One problem with key material, located by its path in the key file (`keys[0].versions[1].key`). */
export interface KeyProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Key material that cannot be used, with every problem found so an operator fixes them in one go.
 * Messages name fields and key names, never key values.
 */
export class InvalidKeysError extends BridgeError {
  readonly retriable = false;
  readonly code = 'keys-invalid';

  constructor(
    readonly source: string,
    readonly problems: readonly KeyProblem[],
  ) {
    super(
      `invalid keys in ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.path || '(file)'}: ${p.message}`).join('\n'),
    );
  }
}

export function formatKeyPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}
