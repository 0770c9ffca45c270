import { BridgeMessage } from '@app/core';
import { EnvelopeSealer, Keyring } from '@app/crypto';
import { TemplateContext } from '@app/topic';
import { Document, MessageFacts, TransformProgram } from '@app/transform';
import { ReplayGuard } from './replay.guard';
import { TransformConfig } from '@app/bridge-config';

/** The payload of one message for one rule, ready to be written to any number of destinations. */
export interface PreparedPayload {
  /** Bytes for a destination address; sealing binds them to that address when configured. */
  forAddress(address: string): Buffer;
  /** Wipes the plaintext the bridge decrypted or produced, once every destination has confirmed. */
  dispose(): void;
  /** Set when a filter step dropped the message: that step's label. Nothing is written then. */
  readonly filteredBy?: string;
  /** The payload as the rule's process section left it, for `{payload.PATH}` templates. */
  readonly document?: Document;
  /** Headers the transform adds: `bridge.envelope.id` for an opened envelope. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the transformer needs of a rule. */
export interface TransformingRule {
  readonly transform: TransformConfig;
  readonly process?: TransformProgram;
  /** Refuses envelopes opened before within the rule's replay window. */
  readonly replayGuard?: ReplayGuard;
}

/** Carries the opened envelope's id (hex): consumers can drop duplicates by it. */
export const ENVELOPE_ID_HEADER = 'bridge.envelope.id';

/** Where the current keyring is read from; swapped whole when keys change. */
export interface KeyringSource {
  current(): Keyring;
}

const NOTHING_TO_WIPE = (): void => undefined;
const FILTERED_ADDRESS = (): Buffer => {
  throw new Error('a filtered message has no payload to write');
};

/**
 * Applies a rule's transform: open (per mode), process (decode, steps, encode), seal. Opening
 * and processing happen once per message and rule (they throw typed errors the pipeline
 * dead-letters); sealing happens per destination, so each envelope can be bound to the topic
 * it is written to. Plaintext never goes anywhere but the rule's destinations: failure paths
 * only ever see the original message bytes, and every buffer of plaintext the bridge made is
 * wiped as soon as nothing needs it.
 */
export class PayloadTransformer {
  constructor(
    private readonly sealer: EnvelopeSealer,
    private readonly keys: KeyringSource,
  ) {}

  prepare(rule: TransformingRule, message: BridgeMessage, context: TemplateContext): PreparedPayload {
    const { transform, process } = rule;
    const keyring = this.keys.current();
    const opened = transform.mode === 'decrypt' || transform.mode === 'reencrypt' ? this.open(rule, message, keyring) : undefined;
    const headers = opened && { [ENVELOPE_ID_HEADER]: opened.id };
    let plain = opened?.plaintext ?? message.payload;
    let document: Document | undefined;
    if (process) {
      let result: ReturnType<TransformProgram['run']>;
      try {
        result = process.run(plain, facts(message, context));
      } catch (error) {
        if (plain !== message.payload) wipe(plain);
        throw error;
      }
      if (result.kind === 'filtered') {
        if (plain !== message.payload) wipe(plain);
        return { filteredBy: result.by, forAddress: FILTERED_ADDRESS, dispose: NOTHING_TO_WIPE };
      }
      if (result.bytes !== plain && plain !== message.payload) wipe(plain);
      plain = result.bytes;
      document = result.document;
    }
    const output = plain;
    const dispose = output === message.payload ? NOTHING_TO_WIPE : () => wipe(output);
    if (transform.mode === 'encrypt' || transform.mode === 'reencrypt') {
      return { document, headers, dispose, forAddress: (address) => this.seal(transform, output, address, keyring) };
    }
    return { document, headers, dispose, forAddress: () => output };
  }

  private open(rule: TransformingRule, message: BridgeMessage, keyring: Keyring): { plaintext: Buffer; id: string } {
    const { transform, replayGuard } = rule;
    const opened = this.sealer.open(message.payload, {
      keyring,
      expectedKeyName: transform.sourceKey,
      topic: message.topic,
      requireTopicBinding: transform.requireTopicBinding,
    });
    const plaintext = Buffer.from(opened.plaintext.buffer, opened.plaintext.byteOffset, opened.plaintext.byteLength);
    try {
      replayGuard?.admit(opened.id);
    } catch (error) {
      wipe(plaintext);
      throw error;
    }
    return { plaintext, id: Buffer.from(opened.id.buffer, opened.id.byteOffset, opened.id.byteLength).toString('hex') };
  }

  private seal(transform: TransformConfig, plaintext: Uint8Array, address: string, keyring: Keyring): Buffer {
    const envelope = this.sealer.seal(plaintext, {
      keyring,
      keyName: transform.destinationKey!,
      topic: transform.bindDestinationTopic ? address : undefined,
    });
    return Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  }
}

/** What a rule's expressions read besides the payload; names documented in docs/transforms.md. */
function facts(message: BridgeMessage, context: TemplateContext): MessageFacts {
  const record = context.record;
  return {
    topic: context.topic,
    levels: context.levels,
    captures: context.captures,
    qos: message.qos,
    retain: message.retain,
    rule: context.rule,
    clientId: context.clientId,
    receivedAt: Math.round(performance.timeOrigin + message.receivedAt),
    properties: message.properties as Readonly<Record<string, unknown>>,
    key: record?.key ?? null,
    headers: record?.headers ?? {},
  };
}

/** What libsodium-wrappers' memzero does for a JS-owned buffer, without needing the module here. */
function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}
