import { Inbound } from '@app/core';
import { mqttSourceSchema } from './mqtt.schema';
import { MqttSource } from './mqtt.source';
import { ScriptedBroker } from './testing/scripted-broker';

/** Lets MQTT.js and the broker exchange whatever is ready (packets are handled on next ticks). */
async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

async function start(broker: ScriptedBroker, maxInFlight: number, qos: 1 | 2, statusTopic?: string) {
  const received: Inbound[] = [];
  const errors: string[] = [];
  const source = new MqttSource(broker.factory(), {
    config: mqttSourceSchema.parse({ url: 'mqtt://scripted', maxInFlight }),
    clientId: 'unit-bridge',
    subscriptions: [{ id: 1, filter: 't/#', qos, retainHandling: 0 }],
    statusTopic,
  });
  await source.connect((inbound) => received.push(inbound));
  // The source logs MQTT.js errors; a "Receive Maximum exceeded" would show up here.
  const client = (source as unknown as { client: { on(e: 'error', l: (err: Error) => void): void } }).client;
  client.on('error', (err) => errors.push(err.message));
  return { source, received, errors };
}

/**
 * Mosquitto 2.0.11 sends far more QoS 1/2 messages than the receive maximum once a backlog
 * builds (test/faults/README.md). The scripted broker does the same on purpose: the source has
 * to slow it down by not reading, keep acknowledgements in order, and stay connected.
 */
describe('MqttSource against a broker that exceeds the receive maximum', () => {
  const MAX = 5;
  let source: MqttSource | undefined;
  afterEach(async () => {
    await source?.close(0);
    source = undefined;
  });

  it('advertises maxInFlight as the MQTT 5 receive maximum', async () => {
    const broker = new ScriptedBroker();
    ({ source } = await start(broker, MAX, 2));
    expect(broker.connect?.properties?.receiveMaximum).toBe(MAX);
  });

  it('QoS 2: reads no further while maxInFlight are unacknowledged, stays connected, PUBRECs in order', async () => {
    const broker = new ScriptedBroker();
    const s = await start(broker, MAX, 2);
    source = s.source;
    broker.publish('t/a', 2, range(1, 40));
    await settle();
    // maxInFlight held, plus the one whose hook waits for room (MQTT.js read it, then stopped).
    expect(s.received).toHaveLength(MAX + 1);
    expect(source.inFlight).toBe(MAX + 1);
    // Complete out of order: nothing may go out before message 1 is done.
    for (const inbound of s.received.slice(1).reverse()) inbound.ack();
    await settle();
    expect(broker.acknowledged('pubrec')).toEqual([]);
    // Then keep confirming whatever arrives, as Kafka does when it is back.
    while (s.received.length < 40 || source.inFlight > 0) {
      for (const inbound of s.received) inbound.ack();
      await settle(5);
    }
    await settle();
    expect(s.errors).toEqual([]);
    expect(broker.closed).toBe(false);
    expect(s.received.map((i) => Number(i.message.payload.toString()))).toEqual(range(1, 40));
    expect(broker.acknowledged('pubrec')).toEqual(range(1, 40));
    expect(broker.acknowledged('pubcomp')).toEqual(range(1, 40));
  });

  it('counts a done message whose acknowledgement waits for an earlier one as unacknowledged', async () => {
    const broker = new ScriptedBroker();
    const s = await start(broker, MAX, 1);
    source = s.source;
    broker.publish('t/a', 1, range(1, 40));
    await settle();
    expect(s.received).toHaveLength(MAX + 1);
    // Everything but the first is done: the pipeline is nearly empty, yet their PUBACKs wait for
    // message 1, so the source must not read more (the held acknowledgements would grow unbounded).
    for (const inbound of s.received.slice(1)) inbound.ack();
    await settle();
    expect(source.inFlight).toBe(1);
    expect(s.received).toHaveLength(MAX + 1);
    expect(broker.acknowledged('puback')).toEqual([]);
    s.received[0].ack();
    await settle();
    expect(broker.acknowledged('puback')).toEqual(range(1, MAX + 1));
    expect(s.received.length).toBeGreaterThan(MAX + 1);
    expect(broker.closed).toBe(false);
  });

  it('never sends an acknowledgement from a dropped connection on the next one', async () => {
    const broker = new ScriptedBroker();
    const s = await start(broker, 2, 1);
    source = s.source;
    broker.publish('t/a', 1, range(1, 5));
    await settle();
    expect(s.received).toHaveLength(3); // 2 held, the third waits for room
    const connects = () => broker.received.filter((p) => p.cmd === 'connect').length;
    broker.drop();
    for (let i = 0; i < 200 && connects() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(connects()).toBe(2);
    await settle();
    // Kafka confirms the messages of the old connection: their PUBACKs must not go out on the new
    // one, where packet ids 1-3 may already name other messages.
    for (const inbound of s.received) inbound.ack();
    await settle();
    expect(broker.sinceLastConnect.filter((p) => p.cmd === 'puback')).toEqual([]);
  });

  it('keeps reading while closing, so the offline status is acknowledged even with intake full', async () => {
    const broker = new ScriptedBroker();
    const s = await start(broker, 2, 1, 'status/unit-bridge');
    broker.publish('t/a', 1, range(1, 10));
    await settle();
    expect(s.received).toHaveLength(3);
    // Nothing is ever confirmed (Kafka down): the drain gives up at once, then the offline status
    // is published and its PUBACK, queued behind the unread PUBLISH packets, must be read.
    await s.source.close(0);
    const statuses = broker.received.filter((p) => p.cmd === 'publish' && p.topic === 'status/unit-bridge');
    expect(statuses.map((p) => JSON.parse(String((p as { payload: Buffer }).payload)).status)).toEqual(['online', 'offline']);
    expect(broker.acknowledged('puback')).toEqual([]);
  });
});
