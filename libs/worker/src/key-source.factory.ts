import { PlainKeyFile, KeySource, SodiumProvider } from '@app/crypto';
import type { KafkaClientFactory, KafkaConnectionConfig } from '@app/kafka';
import { KeystoreKeySource, managedKeystore } from '@app/keystore';
import type { ConfigSecrets, KeysConfig } from '@app/bridge-config';

/** How a worker opens its key source: the plain key file, or the wrapped keystore with the master key. */
export function keySourceOpener(
  keys: KeysConfig | undefined,
  secrets: ConfigSecrets,
  deps: { sodium: SodiumProvider; kafka: KafkaConnectionConfig; kafkaFactory: KafkaClientFactory; clientId: string },
): (() => Promise<KeySource>) | undefined {
  if (!keys) return undefined;
  const { file, store } = keys;
  if (file) return async () => new PlainKeyFile(file);
  if (!store || secrets.masterKey === undefined) return undefined;
  const masterKey = secrets.masterKey;
  return async () => {
    const sodium = await deps.sodium.ready();
    const masterKeys = { current: masterKey, previous: secrets.previousMasterKeys };
    const { store: keystore, masters } = managedKeystore(store, masterKeys, sodium, {
      kafka: deps.kafka,
      kafkaFactory: deps.kafkaFactory,
      clientId: `${deps.clientId}.keys`,
    });
    return new KeystoreKeySource(keystore, masters);
  };
}
