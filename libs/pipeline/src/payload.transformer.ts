import { BridgeMessage } from '@app/core';
import { EnvelopeSealer, Keyring } from '@app/crypto';
import { TransformConfig } from './transform.schema';

/** The payload of one message for one rule, ready to be written to any number of destinations. */
export interface PreparedPayload {
  /** Bytes for a destination address; sealing binds them to that address when configured. */
  forAddress(address: string): Buffer;
  /** Wipes the plaintext the bridge decrypted, once every destination has confirmed. */
  dispose(): void;
}

/** Where the current keyring is read from; swapped whole when keys change. */
export interface KeyringSource {
  current(): Keyring;
}

const PASSTHROUGH_DISPOSE = (): void => undefined;

/**
 * Applies a rule's transform. Opening happens once per message and rule (it throws a typed
 * CryptoError that the pipeline dead-letters); sealing happens per destination, so each
 * envelope can be bound to the topic it is written to. Plaintext never goes anywhere but
 * the rule's destinations: failure paths only ever see the original message bytes.
 */
export class PayloadTransformer {
  constructor(
    private readonly sealer: EnvelopeSealer,
    private readonly keys: KeyringSource,
  ) {}

  prepare(transform: TransformConfig, message: BridgeMessage): PreparedPayload {
    const keyring = this.keys.current();
    switch (transform.mode) {
      case 'passthrough':
        return { forAddress: () => message.payload, dispose: PASSTHROUGH_DISPOSE };
      case 'decrypt': {
        const plaintext = this.open(transform, message, keyring);
        return { forAddress: () => plaintext, dispose: () => wipe(plaintext) };
      }
      case 'encrypt':
        return { forAddress: (address) => this.seal(transform, message.payload, address, keyring), dispose: PASSTHROUGH_DISPOSE };
      case 'reencrypt': {
        const plaintext = this.open(transform, message, keyring);
        return {
          forAddress: (address) => this.seal(transform, plaintext, address, keyring),
          dispose: () => wipe(plaintext),
        };
      }
    }
  }

  private open(transform: TransformConfig, message: BridgeMessage, keyring: Keyring): Buffer {
    const { plaintext } = this.sealer.open(message.payload, {
      keyring,
      expectedKeyName: transform.sourceKey,
      topic: message.topic,
      requireTopicBinding: transform.requireTopicBinding,
    });
    return Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
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

/** What libsodium-wrappers' memzero does for a JS-owned buffer, without needing the module here. */
function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}
