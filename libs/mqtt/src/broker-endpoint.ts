import { lookup as dnsLookup } from 'node:dns/promises';

/** Where a broker URL connects: its port and the addresses (or, unresolved, the host name) behind it. */
export interface BrokerEndpoint {
  readonly port: number;
  readonly hosts: ReadonlySet<string>;
}

/** Ports MQTT.js uses when a URL names none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'mqtt:': 1883,
  'tcp:': 1883,
  'mqtts:': 8883,
  'ssl:': 8883,
  'tls:': 8883,
  'ws:': 80,
  'wss:': 443,
};

/** The host and port a broker URL connects to (scheme aliases and default ports applied); undefined for what is not a broker URL. */
export function parseEndpoint(url: string): { host: string; port: number } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const defaultPort = DEFAULT_PORTS[parsed.protocol];
  if (defaultPort === undefined || parsed.hostname === '') return undefined;
  const host = parsed.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return { host, port: parsed.port === '' ? defaultPort : Number(parsed.port) };
}

export type AddressLookup = (host: string) => Promise<readonly string[]>;

const systemLookup: AddressLookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/**
 * Resolves a broker URL to the addresses it reaches, so that `mqtt://localhost:1883` and
 * `tcp://127.0.0.1` count as the same broker. A host that does not resolve keeps its name.
 */
export async function resolveEndpoint(url: string, lookup: AddressLookup = systemLookup): Promise<BrokerEndpoint | undefined> {
  const endpoint = parseEndpoint(url);
  if (!endpoint) return undefined;
  let addresses: readonly string[] = [];
  try {
    addresses = await lookup(endpoint.host);
  } catch {
    // Unresolvable now (DNS down, a name only the runtime network knows): compare by name.
  }
  const hosts = new Set(addresses.map(canonicalAddress));
  if (hosts.size === 0) hosts.add(endpoint.host);
  return { port: endpoint.port, hosts };
}

/** Whether two endpoints can be the same listener: the same port on a shared address. */
export function sameEndpoint(a: BrokerEndpoint, b: BrokerEndpoint): boolean {
  if (a.port !== b.port) return false;
  for (const host of a.hosts) if (b.hosts.has(host)) return true;
  return false;
}

function canonicalAddress(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
