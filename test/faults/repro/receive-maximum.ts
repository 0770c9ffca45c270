/**
 * Reproduction of a finding of the fault suite (see test/faults/README.md, "Findings"): after a
 * downstream stall, Mosquitto 2.0.11 sends more QoS 1/2 messages than the receive maximum the
 * bridge advertised. Before the fix, MQTT.js closed the bridge's connection ("Receive Maximum
 * exceeded: N inbound QoS 2 messages in flight") and Mosquitto redelivered every unacknowledged
 * message (hundreds of duplicates per outage, a reconnect loop). Now it is a regression check:
 * expect one connection, no duplicates and nothing out of order. No Kafka needed: the real
 * MqttSource (libs/mqtt) with a handler that stops acknowledging for a while, as it does while
 * Kafka is frozen.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register test/faults/repro/receive-maximum.ts
 *
 * Prints the MqttSource's own log lines (connects, any MQTT.js error) and counts deliveries.
 */
import { Inbound } from '@app/core';
import { MqttClientFactory, mqttSourceSchema, MqttSource } from '@app/mqtt';
import { MosquittoBroker } from '../../harness/mosquitto.broker';
import { SequencePublisher } from '../lib/publisher';
import { Scope, sleep } from '../lib/scope';

const MAX_IN_FLIGHT = 100;
const RATE = 300;

async function main(): Promise<void> {
  const scope = new Scope();
  const mosquitto = await MosquittoBroker.start({ persistence: true });
  scope.defer('mosquitto', () => mosquitto.destroy());
  try {
    let gateOpen = true;
    const held: Inbound[] = [];
    const deliveries = new Map<string, number>();
    /** Per MQTT topic, the sequence numbers in the order the pipeline first saw them. */
    const firstSeen = new Map<string, number[]>();
    const source = new MqttSource(new MqttClientFactory(), {
      config: mqttSourceSchema.parse({
        url: mosquitto.url,
        clientId: 'repro-bridge',
        reconnectPeriodMs: 250,
        session: { persistent: true },
        maxInFlight: MAX_IN_FLIGHT,
      }),
      clientId: 'repro-bridge',
      subscriptions: [
        { id: 1, filter: 'repro/q1/+', qos: 1, retainHandling: 0 },
        { id: 2, filter: 'repro/q2/+', qos: 2, retainHandling: 0 },
      ],
    });
    await source.connect((inbound) => {
      const k = `q${inbound.message.qos}:${inbound.message.payload.toString()}`;
      deliveries.set(k, (deliveries.get(k) ?? 0) + 1);
      if (deliveries.get(k) === 1) {
        const list = firstSeen.get(inbound.message.topic) ?? [];
        list.push(Number(inbound.message.payload.toString()));
        firstSeen.set(inbound.message.topic, list);
      }
      // "Kafka" confirms after 2 ms while the gate is open; while it is closed, nothing is confirmed.
      if (gateOpen) setTimeout(() => inbound.ack(), 2);
      else held.push(inbound);
    });
    scope.defer('source', () => source.close(1_000));
    const count = RATE * 8;
    const publishers = await Promise.all(
      ([1, 2] as const).map((qos) =>
        SequencePublisher.connect({
          url: mosquitto.url,
          clientId: `repro-pub-q${qos}`,
          qos,
          topics: Array.from({ length: 10 }, (_, k) => `repro/q${qos}/k${k}`),
          count,
          ratePerSecond: RATE,
          window: 20,
        }),
      ),
    );
    for (const p of publishers) scope.defer('publisher', () => p.close());
    const running = publishers.map((p) => p.run(scope, 60_000));
    await sleep(2_000);
    gateOpen = false;
    console.log(`t=2s: downstream stalls (maxInFlight ${MAX_IN_FLIGHT}); in flight now ${source.inFlight}`);
    await sleep(3_000);
    gateOpen = true;
    console.log(`t=5s: downstream back: confirming the ${held.length} held message(s) at once`);
    for (const inbound of held.splice(0)) inbound.ack();
    await Promise.all(running);
    await sleep(3_000);
    const dup = { q1: 0, q2: 0 };
    for (const [k, n] of deliveries) if (n > 1) dup[k.slice(0, 2) as 'q1' | 'q2'] += n - 1;
    console.log(`published ${count} per QoS; duplicate deliveries to the source: QoS 1 ${dup.q1}, QoS 2 ${dup.q2}`);
    let late = 0;
    for (const [topic, seqs] of firstSeen) {
      let highest = -1;
      for (const seq of seqs) {
        if (seq < highest) {
          if (late++ < 5) console.log(`  out of order: ${topic} delivered ${seq} for the first time after ${highest}`);
        }
        highest = Math.max(highest, seq);
      }
    }
    console.log(`first deliveries out of publish order (per topic): ${late}`);
    console.log(
      `Mosquitto log: ${(mosquitto.logTail(400).match(/New client connected from .* as repro-bridge/g) ?? []).length} connection(s) of repro-bridge in the last 400 lines`,
    );
  } finally {
    await scope.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
