import { MqttClient } from 'mqtt';

/**
 * Keeps a connection alive while the source holds its intake.
 *
 * MQTT.js reads packets one at a time: while the source withholds a packet's callback (intake at
 * maxInFlight), nothing behind it is read, the broker's PINGRESP included, and MQTT.js closes a
 * healthy connection after 1.5 x keepalive ("Keepalive timeout"); the broker then resends every
 * unacknowledged message. During a hold this sends the PINGREQs itself (the broker still needs to
 * hear from the client) and restarts MQTT.js's timeout, which cannot be met. When intake resumes,
 * the queued PINGRESPs are read and MQTT.js's own keepalive takes over: a broker that died during
 * the hold is noticed then, when there is something to acknowledge again.
 *
 * Uses MQTT.js's public `sendPing()` and `reschedulePing(force)`.
 */
export class KeepaliveHold {
  private timer?: NodeJS.Timeout;

  constructor(private readonly client: MqttClient) {}

  get holding(): boolean {
    return this.timer !== undefined;
  }

  hold(): void {
    const keepaliveMs = this.client.keepalive * 1000;
    if (this.timer || !(keepaliveMs > 0)) return;
    // MQTT.js may be half-way through its own count, a ping already sent: start it over.
    this.client.reschedulePing(true);
    this.timer = setInterval(
      () => {
        if (!this.client.connected) return;
        this.client.sendPing();
        this.client.reschedulePing(true);
      },
      Math.ceil(keepaliveMs / 2),
    );
    this.timer.unref();
  }

  release(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    // A full keepalive period for the PINGRESPs queued during the hold to be read.
    if (this.client.connected) this.client.reschedulePing(true);
  }
}
