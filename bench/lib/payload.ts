import { randomBytes } from 'node:crypto';

/**
 * Benchmark payloads. Bytes 0..7: publish time as a float64 (LE) in epoch milliseconds with
 * sub-millisecond resolution (performance.timeOrigin + performance.now()); bytes 8..11: the
 * message's sequence number; the rest random filler (incompressible, like encrypted data).
 */
export const STAMP_BYTES = 12;

export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One immutable payload shared by every message of a throughput run: MQTT.js keeps QoS 1
 * packets until acknowledged, so a buffer must not be reused once handed over. No time stamp:
 * throughput runs do not read it, and building a buffer per message would cost publisher CPU.
 */
export function fixedPayload(bytes: number): Buffer {
  const payload = randomBytes(Math.max(bytes, STAMP_BYTES));
  payload.writeDoubleLE(0, 0);
  return payload;
}

/** A fresh payload of `bytes` stamped with the current time and `seq` (for latency runs). */
export function stampedPayload(bytes: number, seq: number, filler: Buffer): Buffer {
  const payload = Buffer.allocUnsafe(Math.max(bytes, STAMP_BYTES));
  filler.copy(payload, STAMP_BYTES, 0, payload.length - STAMP_BYTES);
  payload.writeDoubleLE(nowEpochMs(), 0);
  payload.writeUInt32LE(seq >>> 0, 8);
  return payload;
}

export function readStamp(payload: Buffer): { sentAt: number; seq: number } | undefined {
  if (payload.length < STAMP_BYTES) return undefined;
  return { sentAt: payload.readDoubleLE(0), seq: payload.readUInt32LE(8) };
}
