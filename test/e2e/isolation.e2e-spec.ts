import { MqttClient } from 'mqtt';
import { MosquittoBroker } from '../harness/mosquitto.broker';
import { sharedKafka } from '../harness/shared-kafka';
import { mqttClient, recordCount, startWorker, uniqueId, useMqtt, waitFor } from './support/bridge.fixture';

const OUTAGE_MS = 30_000;
const FAST_PER_SECOND = 100;

/**
 * A destination that is down holds its messages, and acknowledgements go out in arrival order per
 * MQTT connection: on a shared connection, once maxInFlight are held every rule stops. A rule
 * whose destination is another broker gets a connection of its own (isolation: auto), so the
 * Kafka-only rule beside it keeps its rate through the outage; both lose nothing.
 */
describe('isolation of a destination that is down', () => {
  const kafka = sharedKafka();
  const mqtt = useMqtt();
  let cloud: MosquittoBroker;
  let watcher: MqttClient;
  const atCloud = new Set<string>();

  beforeAll(async () => {
    cloud = await MosquittoBroker.start({ persistence: true });
    // A persistent session at the second broker: what the bridge publishes after its restart reaches it.
    watcher = await mqttClient(cloud.url, { clientId: uniqueId('cloud-sub'), clean: false, properties: { sessionExpiryInterval: 600 } });
    watcher.on('message', (_topic, payload) => atCloud.add(payload.toString()));
    await watcher.subscribeAsync('up/#', { qos: 1 });
  });

  afterAll(async () => {
    await watcher?.endAsync(true);
    await cloud?.destroy();
  });

  it("keeps a Kafka-only rule at its rate while another rule's broker is down for 30 s, and loses nothing of either", async () => {
    const id = uniqueId('iso');
    await kafka.createTopic(`${id}.fast`, 1);
    const bridge = await startWorker(`
mqtt: { url: ${mqtt.broker().url}, clientId: ${id}, maxInFlight: 200, session: { persistent: true } }
kafka: { brokers: [${kafka.brokers.join(',')}] }
deadLetter: { topic: ${id}.dlq }
rules:
  - name: fast
    filters: ["${id}/fast/+"]
    destinations: [{ type: kafka, topic: ${id}.fast }]
  - name: cloud
    filters: ["${id}/cloud/+"]
    destinations:
      - type: mqtt
        broker: { url: "${cloud.url}", reconnectPeriodMs: 200 }
        topic: "up/{topic}"
        retry: { initialMs: 100, maxMs: 500 }
`);
    const publisher = mqtt.publisher();
    let fast = 0;
    let slow = 0;
    let stop = false;
    // Paced streams: FAST_PER_SECOND to the Kafka rule, a quarter of that to the other broker.
    const streaming = (async () => {
      for (let tick = 0; !stop; tick++) {
        const started = Date.now();
        const sends = Array.from({ length: FAST_PER_SECOND / 10 }, () => publisher.publishAsync(`${id}/fast/${fast % 5}`, String(fast++), { qos: 1 }));
        if (tick % 4 === 0) sends.push(...Array.from({ length: 10 }, () => publisher.publishAsync(`${id}/cloud/${slow % 5}`, `${id}-${slow++}`, { qos: 1 })));
        await Promise.all(sends);
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
      }
    })();
    try {
      const delivered = () => bridge.worker.stats.snapshot().fast?.delivered ?? 0;
      await new Promise((r) => setTimeout(r, 3_000));
      await cloud.stop();
      const outageStart = { at: Date.now(), delivered: delivered(), published: fast };
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      const outage = { seconds: (Date.now() - outageStart.at) / 1000, delivered: delivered() - outageStart.delivered, published: fast - outageStart.published };
      await cloud.restart();
      stop = true;
      await streaming;

      // The Kafka-only rule delivered (nearly) everything published during the outage, as it came.
      expect(outage.delivered / outage.published).toBeGreaterThanOrEqual(0.9);
      console.log(
        `isolation: Kafka-only rule during a ${outage.seconds.toFixed(1)} s outage of the other broker: ${outage.delivered} of ${outage.published} published delivered (${((outage.delivered / outage.published) * 100).toFixed(1)} %)`,
      );

      const records = await kafka.consume(`${id}.fast`, { count: fast, timeoutMs: 60_000, settleMs: 500 });
      const seen = new Set(records.map((r) => Number(r.value!.toString())));
      expect(Array.from({ length: fast }, (_, i) => i).filter((n) => !seen.has(n))).toEqual([]);
      await waitFor(() => atCloud.size >= slow, 60_000, `all ${slow} messages at the other broker (${atCloud.size} so far)`);
      expect(Array.from({ length: slow }, (_, i) => `${id}-${i}`).filter((m) => !atCloud.has(m))).toEqual([]);
      expect(await recordCount(kafka.brokers, `${id}.fast`)).toBe(fast);
      await waitFor(() => bridge.worker.inFlight === 0, 20_000, 'every message to be acknowledged');
    } finally {
      stop = true;
      await streaming.catch(() => undefined);
      if (!cloud.running) await cloud.restart();
      await bridge.dispose();
    }
  }, 180_000);
});
