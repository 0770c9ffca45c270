import { BrokerEndpoint, parseEndpoint, resolveEndpoint, sameEndpoint } from './broker-endpoint';

const hosts: Record<string, string[]> = {
  localhost: ['127.0.0.1', '::1'],
  'broker.internal': ['::ffff:10.0.0.5'],
  '127.0.0.1': ['127.0.0.1'],
  '10.0.0.5': ['10.0.0.5'],
  '::1': ['::1'],
};
const lookup = async (host: string) => {
  const found = hosts[host];
  if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  return found;
};
const resolved = async (url: string) => (await resolveEndpoint(url, lookup)) as BrokerEndpoint;

describe('parseEndpoint', () => {
  it.each([
    ['mqtt://Broker.Example:1884', { host: 'broker.example', port: 1884 }],
    ['tcp://127.0.0.1', { host: '127.0.0.1', port: 1883 }],
    ['mqtts://h', { host: 'h', port: 8883 }],
    ['ws://h/mqtt', { host: 'h', port: 80 }],
    ['wss://h', { host: 'h', port: 443 }],
    ['mqtt://[::1]:1999', { host: '::1', port: 1999 }],
  ])('%s', (url, expected) => expect(parseEndpoint(url)).toEqual(expected));

  it('refuses what is not a broker URL', () => {
    expect(parseEndpoint('http://h')).toBeUndefined();
    expect(parseEndpoint('not a url')).toBeUndefined();
  });
});

describe('sameEndpoint', () => {
  it('sees one broker behind a host name, its address, another scheme alias and the default port', async () => {
    const source = await resolved('mqtt://127.0.0.1:1883');
    expect(sameEndpoint(source, await resolved('mqtt://localhost:1883'))).toBe(true);
    expect(sameEndpoint(source, await resolved('tcp://127.0.0.1'))).toBe(true);
    expect(sameEndpoint(await resolved('mqtt://[::1]'), await resolved('mqtt://localhost'))).toBe(true);
    expect(sameEndpoint(await resolved('mqtt://broker.internal'), await resolved('mqtt://10.0.0.5:1883'))).toBe(true);
  });

  it('tells brokers apart by port and address, and compares unresolvable names as names', async () => {
    const source = await resolved('mqtt://127.0.0.1:1883');
    expect(sameEndpoint(source, await resolved('mqtt://127.0.0.1:1884'))).toBe(false);
    expect(sameEndpoint(source, await resolved('mqtts://localhost'))).toBe(false);
    expect(sameEndpoint(source, await resolved('mqtt://10.0.0.5'))).toBe(false);
    expect(sameEndpoint(await resolved('mqtt://Other.Lan'), await resolved('mqtt://other.lan:1883'))).toBe(true);
  });
});
