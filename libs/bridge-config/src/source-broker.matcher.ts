import { BrokerEndpoint, resolveEndpoint, sameEndpoint } from '@app/mqtt/broker-endpoint';

/** Tells whether a broker URL of the configuration reaches the source broker. */
export type SourceBrokerMatcher = (url: string) => boolean;

/** A name server that does not answer must not hold up start-up or a reload for long. */
const LOOKUP_TIMEOUT_MS = 2_000;

/**
 * Resolves the source broker and every MQTT broker a destination or a Kafka -> MQTT rule names,
 * before validation, so the loop checks see `mqtt://localhost:P` and `tcp://127.0.0.1:P` as the
 * broker at `mqtt://127.0.0.1:P`. Reads the unvalidated document defensively: whatever is
 * malformed there is reported by the schema, not here.
 */
export async function sourceBrokerMatcher(raw: unknown): Promise<SourceBrokerMatcher> {
  const sourceUrl = text(field(raw, 'mqtt', 'url'));
  if (sourceUrl === undefined) return () => false;
  const urls = new Set([sourceUrl, ...destinationBrokerUrls(raw)]);
  const endpoints = new Map<string, BrokerEndpoint | undefined>();
  await Promise.all([...urls].map(async (url) => endpoints.set(url, await withTimeout(resolveEndpoint(url)))));
  const source = endpoints.get(sourceUrl);
  return (url) => {
    const endpoint = endpoints.get(url);
    return source && endpoint ? sameEndpoint(source, endpoint) : url === sourceUrl;
  };
}

function destinationBrokerUrls(raw: unknown): string[] {
  const urls: string[] = [];
  for (const rule of list(field(raw, 'rules'))) {
    for (const destination of list(field(rule, 'destinations'))) urls.push(...optional(text(field(destination, 'broker', 'url'))));
  }
  for (const rule of list(field(raw, 'fromKafka'))) urls.push(...optional(text(field(rule, 'mqtt', 'broker', 'url'))));
  return urls;
}

function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const name of path) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[name] : undefined;
  return at;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

async function withTimeout(pending: Promise<BrokerEndpoint | undefined>): Promise<BrokerEndpoint | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), LOOKUP_TIMEOUT_MS)));
  try {
    return await Promise.race([pending, late]);
  } finally {
    clearTimeout(timer);
  }
}
