import { Scenario } from '../lib/scenario';

/**
 * The worker process is killed with SIGKILL (no drain, no offline status, no acknowledgement of
 * what it holds) and started again under the same MQTT client id, so it resumes its persistent
 * session: Mosquitto redelivers what was in flight and what queued meanwhile. Whatever the dead
 * worker had written to Kafka but not yet acknowledged comes again: duplicates, never loss.
 * Short: one kill; full: three, spread over the stream.
 */
export const workerKill: Scenario = {
  name: 'worker-kill-9',
  title: 'worker child killed with kill -9 mid-stream, restarted with the same client id',
  async fault(ctx) {
    const kills = ctx.profile.workerKills;
    for (let i = 1; i <= kills; i++) {
      await ctx.progress((0.8 * i) / (kills + 1));
      const pid = await ctx.worker.kill9();
      ctx.mark(`kill -9 worker (pid ${pid})`);
      await ctx.scope.sleep(ctx.profile.workerDownMs);
      const started = Date.now();
      const next = await ctx.worker.start();
      ctx.mark(`worker restarted (pid ${next}, same client id, ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  },
};
