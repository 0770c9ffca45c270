import { Logger } from '@nestjs/common';
import { Kafka } from 'kafkajs';

/**
 * Asks the cluster to describe itself, at most once per `maxAgeMs`, so health checks do not
 * flood Kafka. Both writers use it: a metadata request is not hot, and kafkajs answers it
 * whichever library produces.
 */
export class ClusterProbe {
  private readonly log = new Logger(ClusterProbe.name);
  private lastProbe?: { at: number; result: Promise<boolean> };
  private lastAnswer?: boolean;

  constructor(
    private readonly kafka: Kafka,
    private readonly brokers: readonly string[],
    /** Told the answer of each probe. */
    private readonly onAnswer: (reachable: boolean) => void,
  ) {}

  probe(maxAgeMs = 0): Promise<boolean> {
    const now = Date.now();
    if (this.lastProbe && now - this.lastProbe.at <= maxAgeMs) return this.lastProbe.result;
    const result = this.describeCluster();
    this.lastProbe = { at: now, result };
    return result;
  }

  private async describeCluster(): Promise<boolean> {
    const admin = this.kafka.admin();
    let reachable = false;
    try {
      await admin.connect();
      await admin.describeCluster();
      reachable = true;
    } catch (error) {
      // Once per outage, not once per health check.
      if (this.lastAnswer !== false) this.log.warn(`Kafka ${this.brokers.join(',')} not reachable: ${(error as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    this.lastAnswer = reachable;
    this.onAnswer(reachable);
    return reachable;
  }
}
