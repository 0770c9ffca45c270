import { Scenario } from '../lib/scenario';

/**
 * Kafka frozen for three times the worker's request timeout, with records that have no key.
 * Produce requests time out while the broker may still write them after SIGCONT: kafkajs rolls
 * the idempotent producer's sequence numbers back anyway, and a worker that resends on the same
 * producer, or sends a keyless record to another partition, is refused for ever ("out of order
 * sequence number"). Delivery must resume within seconds of SIGCONT.
 */
export const kafkaLongFreeze: Scenario = {
  name: 'kafka-long-freeze',
  title: 'Kafka frozen for 3 x the request timeout, keyless records',
  setup: { keyless: true, requestTimeoutMs: (profile) => profile.longFreezeRequestTimeoutMs },
  async fault(ctx) {
    const freezeMs = 3 * ctx.profile.longFreezeRequestTimeoutMs;
    await ctx.progress(0.25);
    await ctx.kafka.pause();
    ctx.mark(`Kafka frozen (SIGSTOP pid ${ctx.kafka.pid}) for ${freezeMs / 1000} s, request timeout ${ctx.profile.longFreezeRequestTimeoutMs / 1000} s`);
    try {
      await ctx.scope.sleep(freezeMs);
    } finally {
      await ctx.kafka.resume();
      ctx.mark('Kafka continued (SIGCONT)');
    }
  },
};
