import { DeliveryFailedError } from '@app/core';
import { contractRecord, describeDestinationContract } from '@app/core/testing/destination.contract';
import { NatsDestination } from './nats.destination';
import { natsDestinationSchema } from './nats.schema';
import { FakeNatsServer } from './testing/fake-nats.server';

function destination(server: FakeNatsServer, subject = 'contract.out'): NatsDestination {
  const config = natsDestinationSchema.parse({ type: 'nats', servers: ['fake:4222'], subject, ackTimeoutMs: 100, retry: { initialMs: 20, maxMs: 100 } });
  return new NatsDestination('unit/nats[0]', config, server.factory(), []);
}

describeDestinationContract('nats (fake server)', {
  bringsUp: true,
  stalls: true,
  async create({ down }) {
    const server = new FakeNatsServer();
    server.up = !down;
    return {
      destination: destination(server),
      delivered: async (payload) => server.holds(payload),
      bringUp: async () => void (server.up = true),
      stall: async () => void (server.confirming = false),
    };
  },
});

describe('NatsDestination (fake server)', () => {
  it('a subject no stream captures is refused for good (no-stream) without retrying', async () => {
    const server = new FakeNatsServer();
    const nats = destination(server, 'elsewhere.out');
    await nats.connect();
    try {
      const error = await nats.write(contractRecord('lost')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DeliveryFailedError);
      expect(error).toMatchObject({ code: 'no-stream', retriable: false, attempts: 1 });
    } finally {
      await nats.close();
    }
  });

  it('connects in the background: up turns true once the server answers, and close() ends the connection', async () => {
    const server = new FakeNatsServer();
    server.up = false;
    const nats = destination(server);
    await nats.connect();
    expect(nats.up).toBe(false);
    server.up = true;
    const deadline = Date.now() + 2_000;
    while (!nats.up && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(nats.up).toBe(true);
    await nats.close();
    expect(nats.up).toBe(false);
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0].isClosed()).toBe(true);
  });
});

describe('NatsDestination.describe', () => {
  it('gives subject and headers (MQTT metadata, user properties, templates) without connecting', () => {
    const server = new FakeNatsServer();
    const config = natsDestinationSchema.parse({ type: 'nats', servers: ['fake:4222'], subject: 'out.{level.1}', headers: { where: '{topic}' } });
    const nats = new NatsDestination('unit/nats[0]', config, server.factory(), []);
    const base = contractRecord('p');
    const record = { ...base, message: { ...base.message, properties: { userProperties: { unit: ['C', 'K'] } } }, headers: { 'bridge.key-version': '2' } };
    expect(nats.describe(record)).toEqual({
      summary: 'nats subject out.in',
      address: 'out.in',
      headers: {
        'mqtt.topic': 'contract/in',
        'mqtt.qos': '1',
        'mqtt.retain': 'true',
        'bridge.rule': 'contract',
        'mqtt.user.unit': ['C', 'K'],
        'bridge.key-version': '2',
        where: 'contract/in',
      },
    });
    expect(server.holds('p')).toBe(false);
  });
});
