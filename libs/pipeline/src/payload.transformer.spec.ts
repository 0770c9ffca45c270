import { BridgeMessage } from '@app/core';
import { EnvelopeSealer, generateKeyEntry, Keyring, publisherCrypto, SodiumProvider, type Sodium } from '@app/crypto';
import { TemplateContext } from '@app/topic';
import { compileProcess, processSchema, TransformFailedError, TransformProgram } from '@app/transform';
import { PayloadTransformer } from './payload.transformer';
import { ReplayDetectedError, ReplayGuard } from './replay.guard';
import { TransformConfig } from '@app/bridge-config';
import { context, message, openedBy, transform } from './testing/transformer.fixture';

describe('PayloadTransformer', () => {
  let sodium: Sodium;
  let keyring: Keyring;
  let transformer: PayloadTransformer;
  let sealer: EnvelopeSealer;
  const entries = () => keyring;

  beforeAll(async () => {
    sodium = await new SodiumProvider().ready();
    keyring = Keyring.from([generateKeyEntry(sodium, 'devices', 'symmetric'), generateKeyEntry(sodium, 'consumers', 'symmetric')]);
    sealer = new EnvelopeSealer(sodium);
    transformer = new PayloadTransformer(sealer, { current: entries });
  });

  const prepare = (t: TransformConfig, m: BridgeMessage, process?: TransformProgram) => transformer.prepare({ transform: t, process }, m, context(m));
  const program = (config: unknown): TransformProgram => compileProcess(processSchema.parse(config), () => ({})).program!;
  const opened = (): Buffer[] => openedBy(sealer);
  afterEach(() => jest.restoreAllMocks());
  const sealFromDevice = (text: string, topic: string) =>
    Buffer.from(new EnvelopeSealer(sodium).seal(new TextEncoder().encode(text), { keyring, keyName: 'devices', topic }));

  it('passes bytes through untouched', () => {
    const payload = Buffer.from([1, 2, 3]);
    expect(prepare(transform({ mode: 'passthrough' }), message(payload)).forAddress('t')).toBe(payload);
  });

  it('decrypts once and wipes the plaintext when disposed', () => {
    const prepared = prepare(transform({ mode: 'decrypt', sourceKey: 'devices' }), message(sealFromDevice('21.5', 'site/a/temp')));
    const plaintext = prepared.forAddress('kafka.topic');
    expect(plaintext.toString()).toBe('21.5');
    prepared.dispose();
    expect(plaintext.every((b) => b === 0)).toBe(true);
  });

  it('re-encrypts for the destination key, bound to the destination address', () => {
    const prepared = prepare(
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
    expect(() => prepare(transform({ mode: 'decrypt', sourceKey: 'devices' }), message(sealFromDevice('x', 'site/b/temp')))).toThrow(
      expect.objectContaining({ code: 'topic-mismatch', retriable: false }),
    );
  });

  it('names the opened envelope in bridge.envelope.id, and with a replay window refuses it a second time, plaintext wiped', () => {
    const envelope = sealFromDevice('x', 'site/a/temp');
    const decrypt = transform({ mode: 'decrypt', sourceKey: 'devices' });
    const replayGuard = new ReplayGuard({ seconds: 60, maxEnvelopes: 10 });
    const first = transformer.prepare({ transform: decrypt, replayGuard }, message(envelope), context(message(envelope)));
    const nonce = Buffer.from(
      publisherCrypto(sodium).open(envelope, [{ name: 'devices', version: 1, secret: keyring.decryptionKey('devices', 1).secret }], 'site/a/temp').id,
    );
    expect(first.headers).toEqual({ 'bridge.envelope.id': nonce.toString('hex') });
    const buffers = opened();
    expect(() => transformer.prepare({ transform: decrypt, replayGuard }, message(envelope), context(message(envelope)))).toThrow(ReplayDetectedError);
    expect(buffers[0].every((b) => b === 0)).toBe(true);
  });

  describe('with a process section', () => {
    const reencrypt = transform({ mode: 'reencrypt', sourceKey: 'devices', destinationKey: 'consumers' });
    const mapping = () => program({ steps: [{ filter: 'payload.t > -40.0' }, { enrich: { site: 'captures.site' } }, { rename: { t: 'temperature' } }] });
    const openFor = (envelope: Buffer, topic: string) => {
      const key = [{ name: 'consumers', version: 1, secret: keyring.decryptionKey('consumers', 1).secret }];
      return JSON.parse(Buffer.from(publisherCrypto(sodium).open(envelope, key, topic).plaintext).toString());
    };

    it('opens, transforms and seals again; the opened plaintext is wiped at once, the transformed one on dispose', () => {
      const buffers = opened();
      const prepared = prepare(reencrypt, message(sealFromDevice('{"t":21.5}', 'site/a/temp')), mapping());
      expect(buffers[0].every((b) => b === 0)).toBe(true);
      expect(prepared.document).toEqual({ temperature: 21.5, site: 'a' });
      expect(openFor(prepared.forAddress('telemetry.a'), 'telemetry.a')).toEqual({ temperature: 21.5, site: 'a' });
      prepared.dispose();
    });

    it('gives filtered, with nothing to write and the plaintext wiped', () => {
      const buffers = opened();
      const prepared = prepare(reencrypt, message(sealFromDevice('{"t":-99}', 'site/a/temp')), mapping());
      expect(prepared.filteredBy).toBe('steps[0].filter');
      expect(() => prepared.forAddress('x')).toThrow();
      expect(buffers[0].every((b) => b === 0)).toBe(true);
    });

    it('wipes the plaintext and throws the typed failure when a step fails', () => {
      const buffers = opened();
      expect(() => prepare(reencrypt, message(sealFromDevice('{"t":"warm"}', 'site/a/temp')), mapping())).toThrow(TransformFailedError);
      expect(buffers[0].every((b) => b === 0)).toBe(true);
    });

    it('never wipes the message bytes themselves (other rules and dead letters read them)', () => {
      const payload = Buffer.from('{"t":1}');
      const prepared = prepare(transform({ mode: 'passthrough' }), message(payload), program({ steps: [{ filter: 'true' }] }));
      expect(prepared.forAddress('x')).toBe(payload);
      prepared.dispose();
      expect(payload.toString()).toBe('{"t":1}');
    });
  });
});
