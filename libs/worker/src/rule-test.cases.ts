import { BridgeMessage, MessageProperties } from '@app/core';
import { Environment, validateDocument, YamlDocument } from '@app/config';
import { EnvelopeSealer, KeyEntry, Keyring } from '@app/crypto';
import { Document, encodePayload } from '@app/transform';
import { PayloadField, RuleTestCase, RuleTestFile, ruleTestFileSchema } from './rule-test.schema';

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
export function caseMessage(c: RuleTestCase, sealer: EnvelopeSealer, keyring: Keyring): BridgeMessage {
  let payload = payloadBytes(c)!;
  if (c.sealWith !== undefined) payload = Buffer.from(sealer.seal(payload, { keyring, keyName: c.sealWith, topic: c.topic }));
  const p = c.properties;
  const properties: MessageProperties = {
    ...p,
    correlationData: p.correlationData === undefined ? undefined : Buffer.from(p.correlationData, 'utf8'),
  };
  // The pipeline reads receipt times relative to performance.timeOrigin.
  const receivedAt = c.receivedAt === undefined ? performance.now() : Date.parse(c.receivedAt) - performance.timeOrigin;
  return { topic: c.topic, payload, qos: c.qos, retain: c.retain, properties, receivedAt };
}
