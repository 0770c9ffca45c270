import { DeliveryFailedError, ShutdownError } from '@app/core';
import { contractRecord, describeDestinationContract } from '@app/core/testing/destination.contract';
import { AmqpDestination } from './amqp.destination';
import { amqpDestinationSchema } from './amqp.schema';
import { FakeAmqpBroker } from './testing/fake-amqp.broker';

const RETRY = { initialMs: 20, maxMs: 100 };

function destination(broker: FakeAmqpBroker, exchange = 'telemetry', routingKey = 'contract', captures: string[] = []): AmqpDestination {
  const config = amqpDestinationSchema.parse({ type: 'amqp', url: 'amqp://guest:guest@fake:5672', exchange, routingKey, retry: RETRY });
  return new AmqpDestination('unit/amqp[0]', config, broker.factory(), captures);
}

describeDestinationContract('amqp (fake broker)', {
  bringsUp: true,
  stalls: true,
  async create({ down }) {
    const broker = new FakeAmqpBroker();
    broker.exchanges.add('telemetry');
    broker.up = !down;
    return {
      destination: destination(broker),
      delivered: async (payload) => broker.holds(payload),
      bringUp: async () => void (broker.up = true),
      stall: async () => void (broker.confirming = false),
    };
  },
});

describe('AmqpDestination edge cases (fake broker)', () => {
  let broker: FakeAmqpBroker;
  let amqp: AmqpDestination;

  beforeEach(async () => {
    broker = new FakeAmqpBroker();
    broker.exchanges.add('telemetry');
    amqp = destination(broker, '{site}', 'k.{metric}', ['site', 'metric']);
    await amqp.connect();
  });

  afterEach(() => amqp.close());

  function record(exchange: string, routingKey: string, payload: string) {
    const base = contractRecord(payload);
    return { ...base, context: { ...base.context, captures: { site: exchange, metric: routingKey } } };
  }

  async function failure(write: Promise<void>): Promise<DeliveryFailedError> {
    const error = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeliveryFailedError);
    return error as DeliveryFailedError;
  }

  it('rejects a message the broker returned as unroutable for good (unroutable), and the channel keeps delivering', async () => {
    broker.unroutable.add('k.nowhere');
    const returned = await failure(amqp.write(record('telemetry', 'nowhere', 'lost')));
    expect(returned).toMatchObject({ code: 'unroutable', retriable: false, attempts: 1 });
    expect(broker.holds('lost')).toBe(false);

    await amqp.write(record('telemetry', 'temp', 'next'));
    expect(broker.stored.find((m) => m.content.toString() === 'next')?.options).toMatchObject({
      mandatory: true,
      messageId: expect.stringMatching(/^[0-9a-f]{24}$/),
    });
    // One confirm channel and one passive check: the return did not cost a channel.
    expect(broker.channelsOpened).toBe(2);
  });

  it('rejects a message for a missing exchange for good (no-exchange) without retrying, and later messages still go out', async () => {
    const missing = await failure(amqp.write(record('nosuch', 'temp', 'lost')));
    expect(missing).toMatchObject({ code: 'no-exchange', retriable: false, attempts: 1 });

    await amqp.write(record('telemetry', 'temp', 'next'));
    expect(broker.holds('next')).toBe(true);
    expect(amqp.up).toBe(true);
  });

  it('an exchange deleted after it was checked: the broker closes the channel (404), that write ends as no-exchange and a new channel carries the next', async () => {
    broker.exchanges.add('gone');
    await amqp.write(record('gone', 'temp', 'first'));
    broker.exchanges.delete('gone');
    const opened = broker.channelsOpened;

    const missing = await failure(amqp.write(record('gone', 'temp', 'second')));
    expect(missing).toMatchObject({ code: 'no-exchange', retriable: false });
    expect(missing.attempts).toBe(2);

    await amqp.write(record('telemetry', 'temp', 'third'));
    expect(broker.holds('third')).toBe(true);
    expect(broker.channelsOpened).toBeGreaterThan(opened);
  });

  it('reconnects after the connection is lost, and writes issued meanwhile wait for it', async () => {
    await amqp.write(record('telemetry', 'temp', 'before'));
    broker.stop();
    expect(amqp.up).toBe(false);
    const waiting = amqp.write(record('telemetry', 'temp', 'during'));
    await new Promise((r) => setTimeout(r, 150));
    expect(broker.holds('during')).toBe(false);
    broker.up = true;
    await waiting;
    expect(broker.holds('during')).toBe(true);
    expect(broker.connections).toHaveLength(2);
    expect(amqp.up).toBe(true);
  });

  it('a bounded retry policy ends a write with a retriable failure while the broker stays down', async () => {
    const bounded = new AmqpDestination(
      'unit/amqp[1]',
      amqpDestinationSchema.parse({ type: 'amqp', url: 'amqp://fake', routingKey: 'q', retry: { initialMs: 10, maxMs: 20, maxAttempts: 3 } }),
      broker.factory(),
      [],
    );
    broker.up = false;
    await bounded.connect();
    try {
      const error = await failure(bounded.write(contractRecord('x')));
      expect(error).toMatchObject({ code: 'destination-unavailable', retriable: true, attempts: 3 });
    } finally {
      await bounded.close();
    }
    await expect(bounded.write(contractRecord('y'))).rejects.toBeInstanceOf(ShutdownError);
  });
});

describe('AmqpDestination.describe', () => {
  it('gives exchange and routing key (the address a sealed payload is bound to) and headers, without connecting', () => {
    const broker = new FakeAmqpBroker();
    const config = amqpDestinationSchema.parse({ type: 'amqp', url: 'amqp://fake', exchange: 'x', routingKey: 'k.{level.0}', headers: { site: '{level.1}' } });
    const amqp = new AmqpDestination('unit/amqp[0]', config, broker.factory(), []);
    expect(amqp.describe(contractRecord('p'))).toEqual({
      summary: 'amqp exchange "x" routing key k.contract',
      address: 'x/k.contract',
      headers: { 'mqtt.topic': 'contract/in', 'mqtt.qos': 1, 'mqtt.retain': true, 'bridge.rule': 'contract', site: 'in' },
    });
    expect(broker.holds('p')).toBe(false);
  });
});
