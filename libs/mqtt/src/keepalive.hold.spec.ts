import { MqttClient } from 'mqtt';
import { KeepaliveHold } from './keepalive.hold';

function fakeClient(keepaliveSeconds: number) {
  const calls: string[] = [];
  const client = {
    keepalive: keepaliveSeconds,
    connected: true,
    sendPing: () => calls.push('ping'),
    reschedulePing: (force?: boolean) => calls.push(force ? 'reschedule!' : 'reschedule'),
  };
  return { client: client as unknown as MqttClient & { connected: boolean }, calls };
}

describe('KeepaliveHold', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('pings every half keepalive and keeps restarting MQTT.js timeout while held, then hands back', () => {
    const { client, calls } = fakeClient(10);
    const hold = new KeepaliveHold(client);
    hold.hold();
    hold.hold();
    expect(calls).toEqual(['reschedule!']);
    jest.advanceTimersByTime(60_000);
    // 12 half-periods in 60 s, each a PINGREQ and a restart of MQTT.js's own count.
    expect(calls.filter((c) => c === 'ping')).toHaveLength(12);
    expect(calls.filter((c) => c === 'reschedule!')).toHaveLength(13);
    hold.release();
    expect(hold.holding).toBe(false);
    expect(calls.at(-1)).toBe('reschedule!');
    const before = calls.length;
    jest.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(before);
  });

  it('sends nothing on a connection that is down, and nothing at all with keepalive off', () => {
    const down = fakeClient(10);
    const hold = new KeepaliveHold(down.client);
    hold.hold();
    down.client.connected = false;
    jest.advanceTimersByTime(30_000);
    hold.release();
    expect(down.calls).toEqual(['reschedule!']);

    const off = fakeClient(0);
    const none = new KeepaliveHold(off.client);
    none.hold();
    expect(none.holding).toBe(false);
    jest.advanceTimersByTime(30_000);
    expect(off.calls).toEqual([]);
  });
});
