import type { Sodium } from '@app/crypto';
import type { KafkaClientFactory, KafkaConnectionConfig } from '@app/kafka';
import { FileKeystore } from './file.keystore';
import { KafkaKeystore } from './kafka.keystore';
import type { Keystore } from './keystore';
import type { KeystoreConfig } from './keystore.schema';
import { MasterKey } from './master-key';

export interface KeystoreDeps {
  readonly masterKeyId: string;
  readonly kafka: KafkaConnectionConfig;
  readonly kafkaFactory: KafkaClientFactory;
  /** Names this process's connections (Kafka client id). */
  readonly clientId: string;
}

type Builders = { [T in KeystoreConfig['type']]: (config: Extract<KeystoreConfig, { type: T }>, deps: KeystoreDeps) => Keystore };

/** Keystore implementations by `type`. */
const KEYSTORE_TYPES: Builders = {
  file: (config, deps) => new FileKeystore(config.path, deps.masterKeyId),
  kafka: (config, deps) => new KafkaKeystore(deps.kafkaFactory, deps.kafka, { topic: config.topic, masterKeyId: deps.masterKeyId, clientId: deps.clientId }),
};

export function createKeystore(config: KeystoreConfig, deps: KeystoreDeps): Keystore {
  const build = KEYSTORE_TYPES[config.type] as (c: KeystoreConfig, d: KeystoreDeps) => Keystore;
  return build(config, deps);
}

/** The master key and the (unopened) keystore it protects, as both the admin service and workers need them. */
export function managedKeystore(
  config: KeystoreConfig,
  masterKeyText: string,
  sodium: Sodium,
  deps: Omit<KeystoreDeps, 'masterKeyId'>,
): { store: Keystore; master: MasterKey } {
  const master = MasterKey.fromText(sodium, masterKeyText, 'keys.masterKey');
  return { store: createKeystore(config, { ...deps, masterKeyId: master.id }), master };
}
