import { BridgeMessage, MessageProperties } from '@app/core';
import { Environment, validateDocument, YamlDocument } from '@app/config';
import { EnvelopeSealer, KeyEntry, Keyring } from '@app/crypto';
import { ConsumedRecord } from '@app/kafka';
import { Document, encodePayload } from '@app/transform';
import { KafkaTestCase, MqttTestCase, PayloadField, RuleTestCase, RuleTestFile, ruleTestFileSchema } from './rule-test.schema';

/**
 * Reads and validates a case file; problems (unknown fields, bad hex, a `sealWith` naming no
 * known key) come as one ConfigError with file, line and YAML path, as for the configuration.
 * `configKeys` are the names the configuration's plain key file holds.
 */
export function loadRuleTests(file: string, env: Environment, configKeys: readonly string[]): RuleTestFile {
  const doc = YamlDocument.load(file, env);
  return validateDocument(doc, ruleTestFileSchema, [
    (tests, report) => {
      const known = new Set([...configKeys, ...Object.keys(tests.keys)]);
      tests.cases.forEach((c, i) => {
        if (c.sealWith !== undefined && !known.has(c.sealWith)) {
          report(['cases', i, 'sealWith'], `no key ${JSON.stringify(c.sealWith)}: give it under keys (known: ${[...known].sort().join(', ') || 'none'})`);
        }
      });
    },
  ]);
}

/** The test keyring: the case file's keys, and the configuration's plain key file for names it does not give. */
export function testKeyring(tests: RuleTestFile, configKeys: readonly KeyEntry[]): Keyring {
  const own: KeyEntry[] = Object.entries(tests.keys).map(([name, key]) => ({
    name,
    type: 'symmetric',
    primaryVersion: 1,
    minDecryptionVersion: 1,
    versions: [{ version: 1, state: 'active', createdAt: new Date(0).toISOString(), secret: new Uint8Array(Buffer.from(key.secret, 'base64')) }],
  }));
  return Keyring.from([...configKeys.filter((entry) => !(entry.name in tests.keys)), ...own]);
}

/** The bytes a case's payload field stands for. */
export function payloadBytes(value: Partial<Record<PayloadField, unknown>>): Buffer | undefined {
  if (value.text !== undefined) return Buffer.from(value.text as string, 'utf8');
  if (value.json !== undefined) return Buffer.from(JSON.stringify(value.json), 'utf8');
  if (value.cbor !== undefined) return encodePayload('cbor', value.cbor as Document);
  if (value.hex !== undefined) return Buffer.from(value.hex as string, 'hex');
  return undefined;
}

/**
 * The message a case publishes, sealed with its `sealWith` key and bound to its topic as a
 * device would. Throws the CryptoError sealing gives (a revoked key, say).
 */
export function caseMessage(c: MqttTestCase, sealer: EnvelopeSealer, keyring: Keyring): BridgeMessage {
  const p = c.properties ?? {};
  const properties: MessageProperties = {
    ...p,
    correlationData: p.correlationData === undefined ? undefined : Buffer.from(p.correlationData, 'utf8'),
  };
  return {
    topic: c.topic,
    payload: casePayload(c, c.topic, sealer, keyring),
    qos: c.qos ?? 1,
    retain: c.retain ?? false,
    properties,
    receivedAt: caseReceivedAt(c),
  };
}

/**
 * The record a Kafka case gives fromKafka rules, its value sealed with its `sealWith` key and
 * bound to the Kafka topic, as the decrypt and reencrypt transforms expect (an MQTT -> Kafka
 * rule seals so with bindDestinationTopic). Throws the CryptoError sealing gives.
 */
export function caseRecord(c: KafkaTestCase, sealer: EnvelopeSealer, keyring: Keyring): ConsumedRecord {
  const { topic, key, headers, partition } = c.kafka;
  return {
    topic,
    partition,
    offset: '0',
    key: key === null ? null : Buffer.from(key, 'utf8'),
    value: casePayload(c, topic, sealer, keyring),
    // Bytes, as a consumer receives them.
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.map((v) => Buffer.from(v)) : Buffer.from(value)]),
    ),
  };
}

/** A case's `receivedAt` on the pipeline's clock (relative to performance.timeOrigin); now without one. */
export function caseReceivedAt(c: RuleTestCase): number {
  return c.receivedAt === undefined ? performance.now() : Date.parse(c.receivedAt) - performance.timeOrigin;
}

function casePayload(c: RuleTestCase, topic: string, sealer: EnvelopeSealer, keyring: Keyring): Buffer {
  const payload = payloadBytes(c)!;
  return c.sealWith === undefined ? payload : Buffer.from(sealer.seal(payload, { keyring, keyName: c.sealWith, topic }));
}
