import type { Sodium } from '@app/crypto';
import type { KafkaClientFactory, KafkaConnectionConfig } from '@app/kafka';
import { resolve } from 'node:path';
import { WrappedFileKeystore } from './wrapped-file.keystore';
import { GenerationWatermark, processWatermark } from './generation.watermark';
import { KafkaKeystore } from './kafka.keystore';
import type { Keystore } from './keystore';
import { ManifestAuthority } from './keystore.manifest';
import type { KeystoreConfig } from './keystore.schema';
import { MasterKey } from './master-key';
import { MasterKeyRing } from './master-key-ring';

export interface KeystoreDeps {
  readonly masterKeyId: string;
  /** Ids of previous master keys still accepted (rotation in progress). */
  readonly previousMasterKeyIds: readonly string[];
  readonly kafka: KafkaConnectionConfig;
  readonly kafkaFactory: KafkaClientFactory;
  /** Names this process's connections (Kafka client id). */
  readonly clientId: string;
  /** Checks the store's manifest; every service passes one (managedKeystore), tooling may not. */
  readonly manifests?: ManifestAuthority;
}

type Builders = { [T in KeystoreConfig['type']]: (config: Extract<KeystoreConfig, { type: T }>, deps: KeystoreDeps) => Keystore };

/** Keystore implementations by `type`. */
const KEYSTORE_TYPES: Builders = {
  file: (config, deps) => new WrappedFileKeystore(config.path, deps.masterKeyId, [deps.masterKeyId, ...deps.previousMasterKeyIds], deps.manifests),
  kafka: (config, deps) =>
    new KafkaKeystore(deps.kafkaFactory, deps.kafka, {
      topic: config.topic,
      masterKeyId: deps.masterKeyId,
      acceptedMasterKeyIds: deps.previousMasterKeyIds,
      clientId: deps.clientId,
      manifests: deps.manifests,
    }),
};

export function createKeystore(config: KeystoreConfig, deps: KeystoreDeps): Keystore {
  const build = KEYSTORE_TYPES[config.type] as (c: KeystoreConfig, d: KeystoreDeps) => Keystore;
  return build(config, deps);
}

/** Names one keystore across processes: generations are remembered per location. */
export function keystoreLocation(config: KeystoreConfig, kafka: KafkaConnectionConfig): string {
  return config.type === 'file' ? `file:${resolve(config.path)}` : `kafka:${kafka.brokers.join(',')}/${config.topic}`;
}

/**
 * The master keys and the (unopened) keystore they protect, with its manifest checked, as both
 * the admin service and workers need them. `watermark`: where the highest manifest generation
 * seen is kept; by default in this process's memory, shared by every store at that location.
 */
export function managedKeystore(
  config: KeystoreConfig,
  masterKeys: { current: string; previous: readonly string[] },
  sodium: Sodium,
  deps: Omit<KeystoreDeps, 'masterKeyId' | 'previousMasterKeyIds' | 'manifests'> & { watermark?: GenerationWatermark },
): { store: Keystore; masters: MasterKeyRing } {
  const masters = new MasterKeyRing(
    MasterKey.fromText(sodium, masterKeys.current, 'keys.masterKey'),
    masterKeys.previous.map((text, i) => MasterKey.fromText(sodium, text, `keys.previousMasterKeys[${i}]`)),
  );
  const manifests = new ManifestAuthority(masters, deps.watermark ?? processWatermark(keystoreLocation(config, deps.kafka)));
  return { store: createKeystore(config, { ...deps, masterKeyId: masters.current.id, previousMasterKeyIds: masters.ids.slice(1), manifests }), masters };
}
