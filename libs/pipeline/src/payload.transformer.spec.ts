import { BridgeMessage } from '@app/core';
import { EnvelopeSealer, generateKeyEntry, Keyring, publisherCrypto, SodiumProvider, type Sodium } from '@app/crypto';
import { PayloadTransformer } from './payload.transformer';
import { TransformConfig } from './transform.schema';

describe('PayloadTransformer', () => {
  let sodium: Sodium;
  let keyring: Keyring;
  let transformer: PayloadTransformer;
  const entries = () => keyring;

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
    keyring = Keyring.from([generateKeyEntry(sodium, 'devices', 'symmetric'), generateKeyEntry(sodium, 'consumers', 'symmetric')]);
    transformer = new PayloadTransformer(new EnvelopeSealer(sodium), { current: entries });
  });

  const message = (payload: Buffer, topic = 'site/a/temp'): BridgeMessage => ({ topic, payload, qos: 1, retain: false, properties: {}, receivedAt: 0 });
  const transform = (t: Partial<TransformConfig> & Pick<TransformConfig, 'mode'>): TransformConfig => ({
    requireTopicBinding: true,
    bindDestinationTopic: true,
    ...t,
  });
  const sealFromDevice = (text: string, topic: string) =>
    Buffer.from(new EnvelopeSealer(sodium).seal(new TextEncoder().encode(text), { keyring, keyName: 'devices', topic }));

  it('passes bytes through untouched', () => {
    const payload = Buffer.from([1, 2, 3]);
    expect(transformer.prepare(transform({ mode: 'passthrough' }), message(payload)).forAddress('t')).toBe(payload);
  });

  it('decrypts once and wipes the plaintext when disposed', () => {
    const prepared = transformer.prepare(transform({ mode: 'decrypt', sourceKey: 'devices' }), message(sealFromDevice('21.5', 'site/a/temp')));
    const plaintext = prepared.forAddress('kafka.topic');
    expect(plaintext.toString()).toBe('21.5');
    prepared.dispose();
    expect(plaintext.every((b) => b === 0)).toBe(true);
  });

  it('re-encrypts for the destination key, bound to the destination address', () => {
    const prepared = transformer.prepare(
      transform({ mode: 'reencrypt', sourceKey: 'devices', destinationKey: 'consumers' }),
      message(sealFromDevice('secret', 'site/a/temp')),
    );
    const envelope = prepared.forAddress('telemetry.a');
    const consumers = keyring.decryptionKey('consumers', 1);
    const open = publisherCrypto(sodium).open;
    const key = [{ name: 'consumers', version: 1, secret: consumers.secret }];
    expect(Buffer.from(open(envelope, key, 'telemetry.a').plaintext).toString()).toBe('secret');
    expect(() => open(envelope, key, 'telemetry.b')).toThrow(expect.objectContaining({ code: 'topic-mismatch' }));
  });

  it('throws a typed, non-retriable error for an envelope bound to another topic', () => {
    expect(() => transformer.prepare(transform({ mode: 'decrypt', sourceKey: 'devices' }), message(sealFromDevice('x', 'site/b/temp')))).toThrow(
      expect.objectContaining({ code: 'topic-mismatch', retriable: false }),
    );
  });
});
