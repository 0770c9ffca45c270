import { kafkaConnectionSchema } from './kafka.schema';
import { rdkafkaProducerConfig } from './rdkafka.config';

const parse = (input: Record<string, unknown>) => kafkaConnectionSchema.parse({ brokers: ['a:9092', 'b:9093'], ...input });
const idempotent = { acks: 'all', idempotent: true } as const;

describe('rdkafkaProducerConfig', () => {
  it('maps the defaults: retries while Kafka is down, without a message timeout, Java partitioning of keys', () => {
    expect(rdkafkaProducerConfig(parse({}), idempotent)).toMatchObject({
      'metadata.broker.list': 'a:9092,b:9093',
      acks: -1,
      'enable.idempotence': true,
      partitioner: 'murmur2_random',
      'message.timeout.ms': 0,
      'message.send.max.retries': 2_147_483_647,
      'retry.backoff.ms': 200,
      'retry.backoff.max.ms': 10_000,
      'linger.ms': 20,
      'compression.codec': 'none',
    });
  });

  it("maps a bounded retry policy onto librdkafka's attempts and message timeout", () => {
    const config = parse({ producer: { retry: { initialMs: 50, maxMs: 20, maxAttempts: 1, maxElapsedMs: 60_000 } } });
    expect(rdkafkaProducerConfig(config, idempotent)).toMatchObject({
      'retry.backoff.ms': 50,
      // librdkafka refuses a maximum below the initial backoff.
      'retry.backoff.max.ms': 50,
      // The idempotent producer needs one retry at least.
      'message.send.max.retries': 1,
      'message.timeout.ms': 60_000,
    });
    expect(rdkafkaProducerConfig(config, { acks: 1, idempotent: false })['message.send.max.retries']).toBe(0);
  });

  it('bounds the wait of a policy with maxAttempts only by the time its attempts take against an unreachable cluster', () => {
    const config = parse({ connectionTimeoutMs: 10_000, requestTimeoutMs: 1_000, producer: { retry: { initialMs: 100, maxMs: 150, maxAttempts: 3 } } });
    // 3 connection timeouts, and backoffs of 100 and 150 (capped) between them.
    expect(rdkafkaProducerConfig(config, idempotent)['message.timeout.ms']).toBe(30_250);
    // Never shorter than one request's wait (and the linger before it).
    const quick = parse({ connectionTimeoutMs: 1_000, requestTimeoutMs: 30_000, producer: { retry: { initialMs: 100, maxMs: 150, maxAttempts: 3 } } });
    expect(rdkafkaProducerConfig(quick, idempotent)['message.timeout.ms']).toBe(30_020);
  });

  it('keeps a maxElapsedMs timeout above lingerMs, as librdkafka requires', () => {
    const config = parse({ producer: { lingerMs: 20, retry: { maxElapsedMs: 10 } } });
    expect(rdkafkaProducerConfig(config, idempotent)['message.timeout.ms']).toBe(21);
  });

  it.each([
    [{ tls: { ca: '/etc/ca.pem' } }, { 'security.protocol': 'ssl', 'ssl.ca.location': '/etc/ca.pem', 'enable.ssl.certificate.verification': true }],
    [{ sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } }, { 'security.protocol': 'sasl_plaintext', 'sasl.mechanisms': 'SCRAM-SHA-512' }],
    [
      { tls: { rejectUnauthorized: false }, sasl: { mechanism: 'plain', username: 'u', password: 'p' } },
      { 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'PLAIN' },
    ],
  ])('maps TLS and SASL %j', (input, expected) => {
    expect(rdkafkaProducerConfig(parse(input), idempotent)).toMatchObject(expected);
  });
});
