import { KafkaBroker } from '../../test/harness/kafka.broker';
import { MosquittoBroker, mqttUrlFromEnv } from '../../test/harness/mosquitto.broker';
import { mosquittoVersion } from './machine';

/** The two brokers of a run: started here (test harness) or reused from MQTT_URL / KAFKA_BROKERS. */
export interface Brokers {
  readonly mqttUrl: string;
  readonly kafkaBrokers: string[];
  readonly kafkaVersion: string;
  readonly mosquittoVersion: string;
  /** pids of the broker processes started here (for CPU figures); absent when reused. */
  readonly pids: { mosquitto?: number; kafka?: number };
  stop(): Promise<void>;
}

export async function startBrokers(log: (line: string) => void): Promise<Brokers> {
  let mosquitto: MosquittoBroker | undefined;
  let kafka: KafkaBroker | undefined;
  try {
    const externalMqtt = mqttUrlFromEnv();
    if (externalMqtt) {
      log(`MQTT: reusing ${externalMqtt} (MQTT_URL)`);
    } else {
      mosquitto = await MosquittoBroker.start();
      log(`MQTT: started Mosquitto on ${mosquitto.url} (pid ${mosquitto.pid})`);
    }
    const started = Date.now();
    kafka = await KafkaBroker.start();
    log(
      kafka.external
        ? `Kafka: reusing ${kafka.brokers.join(',')} (KAFKA_BROKERS)`
        : `Kafka: started ${kafka.version} on ${kafka.brokers.join(',')} (pid ${kafka.pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const m = mosquitto;
    const k = kafka;
    return {
      mqttUrl: externalMqtt ?? m!.url,
      kafkaBrokers: k.brokers,
      kafkaVersion: k.version ?? `${process.env.KAFKA_VERSION ?? 'unknown'} (external)`,
      mosquittoVersion: externalMqtt ? 'external' : mosquittoVersion(process.env.MOSQUITTO_BIN),
      pids: { mosquitto: m?.pid, kafka: k.external ? undefined : k.pid },
      async stop() {
        await k.destroy().catch((e: Error) => log(`stopping Kafka: ${e.message}`));
        await m?.destroy().catch((e: Error) => log(`stopping Mosquitto: ${e.message}`));
      },
    };
  } catch (error) {
    await kafka?.destroy().catch(() => undefined);
    await mosquitto?.destroy().catch(() => undefined);
    throw error;
  }
}
