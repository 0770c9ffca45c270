import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPublisherCrypto, formatKeyFile, generateKeyEntry, PublisherCrypto, SodiumProvider } from '@app/crypto';
import { benchMqttHeaders } from './bench-mqtt-headers';
import type { BenchCase, CaseTopics } from './cases';

/** The device key the publisher seals with and the consumer key the rule seals for. */
const SOURCE_KEY = 'devices';
const DESTINATION_KEY = 'consumers';

/**
 * A case where devices publish envelopes sealed with their key and bound to the MQTT topic they
 * publish on, and the rule opens each one and seals it again for consumers before Kafka: the
 * product's main path, measured beside passthrough with the same headers and payload size
 * (`payloadBytes` is the plaintext; what goes over MQTT is the envelope around it).
 *
 * Symmetric keys on both sides: a sealed-box key would measure X25519 (~180 µs per seal), not
 * the bridge.
 */
export function reencryptCase(name: string, qos: 0 | 1, payloadBytes: number, messages: number): BenchCase {
  const keyFile = `keys-${name}.json`;
  let seal: ((plain: Buffer, mqttTopic: string) => Buffer) | undefined;
  return {
    name,
    qos,
    payloadBytes,
    messages,
    hasRatioTarget: false,
    // Fresh keys per run, written as the worker reads them: the publisher keeps the device key.
    async prepare(dir: string): Promise<void> {
      const provider = new SodiumProvider();
      const sodium = await provider.ready();
      const devices = generateKeyEntry(sodium, SOURCE_KEY, 'symmetric');
      const consumers = generateKeyEntry(sodium, DESTINATION_KEY, 'symmetric');
      fs.writeFileSync(path.join(dir, keyFile), formatKeyFile([devices, consumers]), { mode: 0o600 });
      const crypto: PublisherCrypto = await createPublisherCrypto(provider);
      const key = devices.versions[0];
      seal = (plain, mqttTopic) => Buffer.from(crypto.sealSymmetric(plain, key.secret, SOURCE_KEY, key.version, mqttTopic));
    },
    configYaml: (dir) => `keys: { file: ${JSON.stringify(path.join(dir, keyFile))} }`,
    encodePayload(plain, mqttTopic) {
      if (!seal) throw new Error(`case ${name}: encodePayload called before prepare`);
      return seal(plain, mqttTopic);
    },
    rulesYaml: reencryptRules(qos),
  };
}

function reencryptRules(qos: 0 | 1): (topics: CaseTopics) => string {
  return ({ mqttPrefix, kafkaTopic }) =>
    [
      '- name: reencrypt',
      `  filters: [${JSON.stringify(`${mqttPrefix}/{device}`)}]`,
      `  qos: ${qos}`,
      `  transform: { mode: reencrypt, sourceKey: ${SOURCE_KEY}, destinationKey: ${DESTINATION_KEY} }`,
      '  destinations:',
      '    - type: kafka',
      `      topic: ${JSON.stringify(kafkaTopic)}`,
      `      mqttHeaders: ${benchMqttHeaders()}`,
    ].join('\n');
}
