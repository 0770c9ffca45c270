import { Scenario } from '../lib/scenario';

/**
 * Kafka is restarted (graceful stop: SIGTERM, controlled shutdown; then the same command on the
 * same ports and data dir) while the streams flow. The worker's produce requests fail and are
 * retried without end; messages stay unacknowledged at Mosquitto and flow again once Kafka is back.
 */
export const kafkaRestart: Scenario = {
  name: 'kafka-restart',
  title: 'Kafka restarted (graceful stop, start on same ports and data) mid-stream',
  async fault(ctx) {
    await ctx.progress(0.3);
    ctx.mark(`Kafka restart begins (SIGTERM to pid ${ctx.kafka.pid})`);
    const started = Date.now();
    try {
      await ctx.kafka.restart();
    } finally {
      ctx.mark(`Kafka ${ctx.kafka.running ? `back (pid ${ctx.kafka.pid})` : 'NOT running'} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  },
};
