import { Scenario } from '../lib/scenario';

/**
 * Mosquitto (persistence on) is stopped gracefully, which saves sessions and queued messages,
 * stays down a moment and comes back on the same port with the same persistence directory.
 * The publishers reconnect and resend what was not acknowledged (same packet id, DUP flag); the
 * worker reconnects, resumes its session and receives again what it had not acknowledged.
 * Short: one restart; full: two.
 */
export const mosquittoRestart: Scenario = {
  name: 'mosquitto-restart',
  title: 'Mosquitto (persistence on) restarted mid-stream; publishers reconnect and resend',
  async fault(ctx) {
    const restarts = ctx.profile.mosquittoRestarts;
    for (let i = 1; i <= restarts; i++) {
      await ctx.progress((0.8 * i) / (restarts + 1));
      ctx.mark(`Mosquitto graceful stop (SIGTERM to pid ${ctx.mosquitto.pid})`);
      await ctx.mosquitto.stop();
      try {
        await ctx.scope.sleep(ctx.profile.mosquittoDownMs);
      } finally {
        await ctx.mosquitto.restart();
        ctx.mark(`Mosquitto back (pid ${ctx.mosquitto.pid}, same port and persistence dir)`);
      }
    }
  },
};
