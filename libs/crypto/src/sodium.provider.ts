import { Inject, Injectable, Optional } from '@nestjs/common';
import sodium from 'libsodium-wrappers';

/** The libsodium-wrappers module once `ready` has resolved. */
export type Sodium = typeof import('libsodium-wrappers');

/** Produces a ready libsodium; inject a different one under this token to substitute it in tests. */
export type SodiumLoader = () => Promise<Sodium>;
export const SODIUM_LOADER = Symbol('SODIUM_LOADER');

let shared: Promise<Sodium> | undefined;

/** Initialises the WebAssembly module once per process, however many providers are built. */
function loadSharedSodium(): Promise<Sodium> {
  // The default import is the live CommonJS module object: `ready` fills in its functions in
  // place, which a namespace import (a copy of the properties at import time) would miss.
  shared ??= sodium.ready.then(() => sodium);
  return shared;
}

/**
 * Hands out the ready libsodium object. Everything else in this library takes that object
 * (or this provider) instead of importing libsodium, so tests can substitute it.
 */
@Injectable()
export class SodiumProvider {
  private readonly loader: SodiumLoader;
  private pending?: Promise<Sodium>;
  private instance?: Sodium;

  constructor(@Optional() @Inject(SODIUM_LOADER) loader?: SodiumLoader) {
    this.loader = loader ?? loadSharedSodium;
  }

  /** A provider whose `sodium` is already usable. */
  static async create(loader?: SodiumLoader): Promise<SodiumProvider> {
    const provider = new SodiumProvider(loader);
    await provider.ready();
    return provider;
  }

  ready(): Promise<Sodium> {
    this.pending ??= this.loader().then((s) => (this.instance = s));
    return this.pending;
  }

  /** The ready object; throws if `ready()` has not resolved yet (a startup-order bug, not a runtime condition). */
  get sodium(): Sodium {
    if (!this.instance) throw new Error('SodiumProvider used before ready() resolved');
    return this.instance;
  }
}
