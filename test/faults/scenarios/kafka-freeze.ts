import { Scenario } from '../lib/scenario';

/**
 * Kafka is frozen with SIGSTOP: its sockets stay open but nothing answers, so produce requests
 * hang until they time out (kafka.requestTimeoutMs, 30 s by default) instead of failing fast.
 * After SIGCONT Kafka processes whatever was still in its socket buffers, which is where a
 * producer that already gave up on a request may see it written anyway. 30 s full, 8 s short.
 */
export const kafkaFreeze: Scenario = {
  name: 'kafka-freeze',
  title: 'Kafka frozen with SIGSTOP, then SIGCONT',
  async fault(ctx) {
    await ctx.progress(0.25);
    await ctx.kafka.pause();
    ctx.mark(`Kafka frozen (SIGSTOP pid ${ctx.kafka.pid}) for ${ctx.profile.freezeMs / 1000} s`);
    try {
      await ctx.scope.sleep(ctx.profile.freezeMs);
    } finally {
      await ctx.kafka.resume();
      ctx.mark('Kafka continued (SIGCONT)');
    }
  },
};
