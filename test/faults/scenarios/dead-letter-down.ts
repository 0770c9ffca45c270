import { Scenario } from '../lib/scenario';

/**
 * Every message is dead-lettered (a decrypt rule receiving plain payloads, reason
 * `envelope-version`), and the dead-letter topic lives in Kafka, which is stopped mid-stream and
 * started again after a while. A dead letter is the last stop: its write is retried until Kafka
 * is back and the MQTT message is acknowledged only after that, so every message must end up in
 * the dead-letter topic. 30 s outage full, 8 s short.
 */
export const deadLetterDown: Scenario = {
  name: 'dead-letter-down',
  title: 'all messages dead-lettered while Kafka (hosting the DLQ) is stopped, then restarted',
  deadLetterAll: true,
  async fault(ctx) {
    await ctx.progress(0.3);
    ctx.mark(`Kafka stop (SIGTERM to pid ${ctx.kafka.pid})`);
    await ctx.kafka.stop();
    ctx.mark(`Kafka down for ${ctx.profile.deadLetterOutageMs / 1000} s`);
    try {
      await ctx.scope.sleep(ctx.profile.deadLetterOutageMs);
    } finally {
      const started = Date.now();
      await ctx.kafka.restart();
      ctx.mark(`Kafka back (pid ${ctx.kafka.pid}) after a ${((Date.now() - started) / 1000).toFixed(1)} s start`);
    }
  },
};
