import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { Kafka, KafkaConfig, logLevel, SASLOptions } from 'kafkajs';
import { KafkaConnectionConfig } from './kafka.schema';

/** The seam between the bridge and kafkajs: tests replace `createClient` with a fake. */
@Injectable()
export class KafkaClientFactory {
  createClient(config: KafkaConfig): Kafka {
    return new Kafka(config);
  }
}

export function kafkaClientConfig(config: KafkaConnectionConfig): KafkaConfig {
  const tls = config.tls;
  return {
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    ssl: tls
      ? {
          ca: tls.ca ? [readFileSync(tls.ca, 'utf8')] : undefined,
          cert: tls.cert ? readFileSync(tls.cert, 'utf8') : undefined,
          key: tls.key ? readFileSync(tls.key, 'utf8') : undefined,
          rejectUnauthorized: tls.rejectUnauthorized,
        }
      : undefined,
    sasl: config.sasl ? ({ ...config.sasl } as SASLOptions) : undefined,
    // The bridge owns retries (SerialBatcher), so kafkajs gives up early and reports.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    // The bridge logs its own retries; kafkajs's per-attempt errors would repeat them.
    logLevel: logLevel.NOTHING,
  };
}
