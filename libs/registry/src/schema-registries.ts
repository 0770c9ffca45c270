import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { classify, LogThrottle, retry, RetryPolicy } from '@app/core';
import { SchemaRegistryConfig } from './schema-registry.schema';
import { createSchemaRegistryClient, RegistryAuth, SchemaRegistryClient, SchemaRegistryClientOptions } from './schema-registry.client';

/** One configured registry: its client, and the retry loop every use of it shares. */
export interface RegistryHandle {
  readonly name: string;
  readonly client: SchemaRegistryClient;
  /**
   * Runs `ask` until it succeeds or fails for good: a RegistryUnavailableError is retried on
   * the registry's policy (messages wait meanwhile); closing the registries ends the wait
   * with a ShutdownError.
   */
  retrying<T>(what: string, ask: () => Promise<T>): Promise<T>;
}

/**
 * The worker's schema registries by name, for the lifetime of the worker (a reload cannot
 * change them). Closing aborts every wait for a registry that is down.
 */
export class SchemaRegistries {
  private readonly log = new Logger('SchemaRegistry');
  private readonly throttle = new LogThrottle(10_000);
  private readonly abort = new AbortController();
  private readonly handles = new Map<string, RegistryHandle>();
  private readonly onRetry?: (registry: string) => void;

  constructor(
    configs: Readonly<Record<string, SchemaRegistryConfig>>,
    options: {
      /** Replaces every registry's retry policy (`bridge test` asks once: nobody waits for its outcome). */
      retry?: RetryPolicy;
      /** Replaces the client (unit specs). */
      create?: (options: SchemaRegistryClientOptions) => SchemaRegistryClient;
      /** Told of every retry, by registry name (the worker's metric). */
      onRetry?: (registry: string) => void;
    } = {},
  ) {
    this.onRetry = options.onRetry;
    const create = options.create ?? createSchemaRegistryClient;
    for (const [name, config] of Object.entries(configs)) {
      const client = create(clientOptions(config));
      const policy = options.retry ?? config.retry;
      this.handles.set(name, { name, client, retrying: (what, ask) => this.retrying(name, policy, what, ask) });
    }
  }

  get(name: string): RegistryHandle {
    const handle = this.handles.get(name);
    if (!handle) throw new RangeError(`no schema registry named ${name}`);
    return handle;
  }

  close(): void {
    this.abort.abort();
  }

  private retrying<T>(name: string, policy: RetryPolicy, what: string, ask: () => Promise<T>): Promise<T> {
    return retry(() => ask(), {
      policy,
      signal: this.abort.signal,
      onRetry: (error, attempt, delayMs) => {
        this.onRetry?.(name);
        const due = this.throttle.admit(`${name}:${what}`);
        if (!due.due) return;
        const failure = classify(error);
        this.log.warn({
          msg: 'schema registry unavailable; messages wait',
          registry: name,
          what,
          attempt,
          retryInMs: delayMs,
          reason: failure.code,
          detail: failure.message,
          suppressed: due.suppressed,
        });
      },
    });
  }
}

/** Client options from a registry's configuration; the CA path was resolved at validation. */
export function clientOptions(config: SchemaRegistryConfig): SchemaRegistryClientOptions {
  let auth: RegistryAuth | undefined;
  if (config.auth && 'basic' in config.auth) auth = { kind: 'basic', ...config.auth.basic };
  else if (config.auth) auth = { kind: 'bearer', token: config.auth.bearer.token };
  return {
    url: config.url,
    auth,
    ca: config.ca === undefined ? undefined : readFileSync(config.ca),
    timeoutMs: config.timeoutMs,
    cacheSize: config.cacheSize,
    latestTtlMs: config.latestTtlMs,
  };
}
