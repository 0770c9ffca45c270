import { FaultContext, Scenario } from '../lib/scenario';

/** Like a process supervisor (systemd Restart=always, a container restart policy): a worker that fails to start is started again. */
const START_ATTEMPTS = 5;
const RESTART_DELAY_MS = 1_000;

/**
 * The worker process is killed with SIGKILL (no drain, no offline status, no acknowledgement of
 * what it holds) and started again under the same MQTT client id, so it resumes its persistent
 * session: Mosquitto redelivers what was in flight and what queued meanwhile. Whatever the dead
 * worker had written to Kafka but not yet acknowledged comes again: duplicates, never loss.
 * Short: one kill; full: three, spread over the stream. A start that fails is retried (up to 5
 * attempts, 1 s apart) and every failure is on the timeline: that is what a supervisor would do.
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
      await startSupervised(ctx);
    }
  },
};

async function startSupervised(ctx: FaultContext): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    try {
      const pid = await ctx.worker.start();
      ctx.mark(`worker restarted (pid ${pid}, same client id, attempt ${attempt}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return;
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0];
      ctx.mark(`worker start attempt ${attempt} FAILED: ${reason}`);
      if (attempt >= START_ATTEMPTS) throw new Error(`the worker did not start in ${START_ATTEMPTS} attempts; last: ${reason}`);
      await ctx.scope.sleep(RESTART_DELAY_MS);
    }
  }
}
