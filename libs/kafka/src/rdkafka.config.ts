import { DeliveryConfig, KafkaConnectionConfig } from './kafka.schema';

export type RdkafkaConfig = Record<string, string | number | boolean>;

const SASL_MECHANISM = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/**
 * librdkafka's producer configuration for one delivery setting. The bridge's retry policy maps
 * onto librdkafka's own retries (which keep a partition's order through the idempotent producer):
 * backoff from initialMs to maxMs, maxAttempts as the send attempts, maxElapsedMs as the message
 * timeout; 0 (the default) keeps trying while Kafka is down, the records waiting unacknowledged.
 */
export function rdkafkaProducerConfig(config: KafkaConnectionConfig, delivery: DeliveryConfig): RdkafkaConfig {
  const { producer, tls, sasl } = config;
  const retry = producer.retry;
  const out: RdkafkaConfig = {
    'metadata.broker.list': config.brokers.join(','),
    'client.id': config.clientId,
    'socket.connection.setup.timeout.ms': Math.max(1_000, config.connectionTimeoutMs),
    'request.timeout.ms': Math.min(900_000, config.requestTimeoutMs),
    'allow.auto.create.topics': true,
    acks: delivery.acks === 'all' ? -1 : delivery.acks,
    'enable.idempotence': delivery.idempotent,
    // Without idempotence, one request at a time is what keeps a partition's order through retries.
    'max.in.flight.requests.per.connection': delivery.idempotent ? 5 : 1,
    // Java's partitioner (murmur2) for keys, as kafkajs's default and Kafka Connect place them.
    partitioner: 'murmur2_random',
    'linger.ms': producer.lingerMs,
    'batch.num.messages': producer.maxBatchMessages,
    'batch.size': producer.maxBatchBytes,
    // The bridge refuses larger records itself, naming the setting; librdkafka's limit only must not be lower.
    'message.max.bytes': Math.max(producer.maxMessageBytes, producer.maxBatchBytes) + 65_536,
    'compression.codec': producer.compression,
    'retry.backoff.ms': Math.min(300_000, retry.initialMs),
    'retry.backoff.max.ms': Math.min(300_000, Math.max(retry.initialMs, retry.maxMs)),
    // The idempotent producer needs at least one retry; librdkafka's maximum means "no limit".
    'message.send.max.retries': retry.maxAttempts > 0 ? Math.max(delivery.idempotent ? 1 : 0, retry.maxAttempts - 1) : 2_147_483_647,
    'message.timeout.ms': messageTimeoutMs(config),
    dr_cb: true,
  };
  if (tls) {
    if (tls.ca) out['ssl.ca.location'] = tls.ca;
    if (tls.cert) out['ssl.certificate.location'] = tls.cert;
    if (tls.key) out['ssl.key.location'] = tls.key;
    out['enable.ssl.certificate.verification'] = tls.rejectUnauthorized;
  }
  if (sasl) {
    out['sasl.mechanisms'] = SASL_MECHANISM[sasl.mechanism];
    out['sasl.username'] = sasl.username;
    out['sasl.password'] = sasl.password;
  }
  if (tls || sasl) out['security.protocol'] = tls && sasl ? 'sasl_ssl' : tls ? 'ssl' : 'sasl_plaintext';
  return out;
}

/**
 * How long a record may wait for Kafka. librdkafka counts an attempt only for a request it sent,
 * and sends none while no broker answers, so `maxAttempts` alone would never end a wait: it
 * becomes the time that many attempts take against an unreachable cluster (each a connection
 * timeout, with the policy's backoff between them), as with kafkajs, and at least one request's
 * timeout.
 */
function messageTimeoutMs(config: KafkaConnectionConfig): number {
  const { maxAttempts, maxElapsedMs, initialMs, maxMs } = config.producer.retry;
  const { lingerMs } = config.producer;
  if (maxAttempts === 0 && maxElapsedMs === 0) return 0;
  // librdkafka refuses a timeout not above linger.ms.
  if (maxElapsedMs > 0) return Math.min(Math.max(maxElapsedMs, lingerMs + 1), 2_147_483_647);
  let total = maxAttempts * config.connectionTimeoutMs;
  for (let attempt = 1; attempt < maxAttempts; attempt++) total += Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  // The timeout also runs while a request is answered: never shorter than one request's wait,
  // or records a slow broker did write would be dead-lettered (and duplicated).
  return Math.min(Math.max(total, config.requestTimeoutMs + lingerMs), 2_147_483_647);
}
