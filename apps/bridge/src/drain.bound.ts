import { Environment } from '@app/config';

/** How long a stopping worker gives in-flight messages to be confirmed, unless set otherwise. */
export const DEFAULT_DRAIN_SECONDS = 10;

/**
 * Time allowed after the drain to close connections and publish the offline status. The
 * process exits at drain + this at the latest, so an orchestrator's grace period (compose
 * stop_grace_period, Kubernetes terminationGracePeriodSeconds) set above the sum is never the
 * one that ends it.
 */
export const CLOSE_MARGIN_MS = 5_000;

/**
 * The drain bound from BRIDGE_DRAIN_SECONDS, in milliseconds. Read from the environment rather
 * than the configuration file because it must agree with the orchestrator's grace period,
 * which is set beside it (compose file, pod spec), not with the rules.
 */
export function drainBoundMs(env: Environment): number {
  const text = env.BRIDGE_DRAIN_SECONDS?.trim();
  if (text === undefined || text === '') return DEFAULT_DRAIN_SECONDS * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`BRIDGE_DRAIN_SECONDS must be a positive number of seconds, got ${JSON.stringify(text)}`);
  }
  return Math.round(seconds * 1000);
}
