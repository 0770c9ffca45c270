import { BridgeMessage } from '@app/core';
import { EnvelopeSealer, Keyring } from '@app/crypto';
import { TemplateContext } from '@app/topic';
import { Document, MessageFacts, TransformProgram } from '@app/transform';
import { ResolvedSchema, SchemaDecoder, SchemaEncoder } from '@app/registry';
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
  /** `process.input` avro or protobuf: decodes what was opened, before the steps. */
  readonly schemaDecoder?: SchemaDecoder;
  /** `process.output` avro or protobuf: encodes the steps' document, before sealing. */
  readonly schemaEncoder?: SchemaEncoder;
}

/** Whether a rule needs prepareWithSchema (it may wait for a schema registry). */
export function usesSchema(rule: TransformingRule): boolean {
  return rule.schemaDecoder !== undefined || rule.schemaEncoder !== undefined;
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
    if (usesSchema(rule)) throw new TypeError('a rule with a schema is prepared by prepareWithSchema');
    const { transform, process } = rule;
    const keyring = this.keys.current();
    const opened = opens(transform) ? this.open(rule, message, keyring) : undefined;
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
      const bytes = emitted(result);
      if (bytes !== plain && plain !== message.payload) wipe(plain);
      plain = bytes;
      document = result.document;
    }
    const output = plain;
    return this.finish(transform, keyring, () => output, output === message.payload ? [] : [output], document, headers);
  }

  /**
   * prepare() for a rule with a schema stage: opens, decodes with the schema (input), runs the
   * steps, then encodes with the schema of each address `addressesOf` gives for the document
   * (output), before sealing. Waits while the schema registry is down; throws what prepare()
   * throws, a SchemaUnavailableError, or a ShutdownError when the worker stops meanwhile.
   */
  async prepareWithSchema(
    rule: TransformingRule,
    message: BridgeMessage,
    context: TemplateContext,
    addressesOf: (document: Document) => string[],
  ): Promise<PreparedPayload> {
    const { transform, process, schemaDecoder, schemaEncoder } = rule;
    if (!process) throw new TypeError('a rule with a schema has a process section');
    const keyring = this.keys.current();
    const opened = opens(transform) ? this.open(rule, message, keyring) : undefined;
    const headers = opened && { [ENVELOPE_ID_HEADER]: opened.id };
    const plain = opened?.plaintext ?? message.payload;
    // Kept until dispose: a decoded document's byte fields may be views on it.
    const owned: Buffer[] = plain === message.payload ? [] : [plain];
    try {
      const found = facts(message, context);
      const result = schemaDecoder ? process.runDecoded(await schemaDecoder.decode(plain), found) : process.run(plain, found);
      if (result.kind === 'filtered') {
        owned.forEach(wipe);
        return { filteredBy: result.by, forAddress: FILTERED_ADDRESS, dispose: NOTHING_TO_WIPE };
      }
      if (result.kind === 'emit') {
        if (result.reencoded) owned.push(result.bytes);
        return this.finish(transform, keyring, () => result.bytes, owned, result.document, headers);
      }
      if (!schemaEncoder) throw new TypeError('a program that leaves a document needs a schema encoder');
      const encoded = await encodeForAddresses(schemaEncoder, result.document, addressesOf);
      owned.push(...new Set(encoded.values()));
      const bytesFor = (address: string): Buffer => {
        const bytes = encoded.get(schemaEncoder.byAddress ? address : '');
        if (!bytes) throw new Error(`no schema was resolved for address ${address}`);
        return bytes;
      };
      return this.finish(transform, keyring, bytesFor, owned, result.document, headers);
    } catch (error) {
      owned.forEach(wipe);
      throw error;
    }
  }

  /** Seals per address when the rule encrypts; `owned` is wiped once every destination confirmed. */
  private finish(
    transform: TransformConfig,
    keyring: Keyring,
    bytesFor: (address: string) => Buffer,
    owned: readonly Buffer[],
    document: Document | undefined,
    headers: Readonly<Record<string, string>> | undefined,
  ): PreparedPayload {
    const dispose = owned.length === 0 ? NOTHING_TO_WIPE : () => owned.forEach(wipe);
    if (transform.mode === 'encrypt' || transform.mode === 'reencrypt') {
      return { document, headers, dispose, forAddress: (address) => this.seal(transform, bytesFor(address), address, keyring) };
    }
    return { document, headers, dispose, forAddress: bytesFor };
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

/**
 * The document encoded for every address it goes to, once per distinct schema; keyed by
 * address, or by '' when the schema does not depend on it.
 */
async function encodeForAddresses(encoder: SchemaEncoder, document: Document, addressesOf: (document: Document) => string[]): Promise<Map<string, Buffer>> {
  const addresses = encoder.byAddress ? [...new Set(addressesOf(document))] : [''];
  const schemas = await Promise.all(addresses.map((address) => encoder.resolve(address)));
  const bySchema = new Map<ResolvedSchema, Buffer>();
  const byAddress = new Map<string, Buffer>();
  try {
    addresses.forEach((address, i) => {
      let bytes = bySchema.get(schemas[i]);
      if (!bytes) {
        bytes = encoder.encode(schemas[i], document);
        bySchema.set(schemas[i], bytes);
      }
      byAddress.set(address, bytes);
    });
  } catch (error) {
    bySchema.forEach(wipe);
    throw error;
  }
  return byAddress;
}

function opens(transform: TransformConfig): boolean {
  return transform.mode === 'decrypt' || transform.mode === 'reencrypt';
}

function emitted(result: Extract<ReturnType<TransformProgram['run']>, { kind: 'emit' | 'document' }>): Buffer {
  if (result.kind === 'document') throw new TypeError('a program that leaves a document is prepared by prepareWithSchema');
  return result.bytes;
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
