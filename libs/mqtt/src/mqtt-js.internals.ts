import { MqttClient } from 'mqtt';

/**
 * Every place the MQTT source reaches into MQTT.js internals (mqtt 5.16.0, pinned in
 * package.json). Each accessor checks that the member exists, so an upgrade that renames one
 * fails at connect rather than silently changing acknowledgement semantics; the end-to-end
 * tests (test/e2e/bridge.e2e-spec.ts) and the fault suite exercise all of them.
 */

export interface OutgoingPacket {
  cmd: string;
  messageId?: number;
}

type PacketSender = (packet: OutgoingPacket, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

interface ClientInternals {
  _sendPacket?: PacketSender;
  _releaseIncomingQoS2Publish?: (messageId: number) => void;
}

/**
 * Routes every packet MQTT.js sends through `intercept`. `send(packet)` writes it for real
 * (without a callback); `next()` passes it on unchanged with MQTT.js's own callback.
 */
export function interceptSentPackets(
  client: MqttClient,
  intercept: (packet: OutgoingPacket, send: (packet: OutgoingPacket) => void, cb: (() => void) | undefined, next: () => void) => void,
): void {
  const target = internals(client);
  const original = target._sendPacket;
  if (typeof original !== 'function') throw missing('_sendPacket');
  const send = (packet: OutgoingPacket): void => original.call(client, packet);
  target._sendPacket = (packet, cb, ...rest) => {
    intercept(packet, send, cb ? () => cb() : undefined, () => original.call(client, packet, cb, ...rest));
  };
}

/**
 * Frees the slot MQTT.js holds for an inbound QoS 2 message against the receive maximum it
 * advertised. MQTT.js counts a QoS 2 message from PUBLISH until it has processed the PUBREL and
 * closes the connection when a PUBLISH would exceed the count ("Receive Maximum exceeded").
 * The bridge calls this when its PUBREC actually goes out, so MQTT.js counts what the bridge
 * holds (bounded by its own intake limit) and not PUBRELs still queued behind PUBLISH packets
 * that a broker sent beyond the quota (Mosquitto 2.0.11 does; see test/faults/README.md).
 * The message stays in MQTT.js's incoming store until its PUBREL, which answers it as before.
 */
export function releaseInboundQoS2Slot(client: MqttClient, messageId: number): void {
  const release = internals(client)._releaseIncomingQoS2Publish;
  if (typeof release !== 'function') throw missing('_releaseIncomingQoS2Publish');
  release.call(client, messageId);
}

/** Fails early (at connect) when the pinned MQTT.js internals are not there. */
export function assertInternals(client: MqttClient): void {
  const target = internals(client);
  for (const name of ['_sendPacket', '_releaseIncomingQoS2Publish'] as const) {
    if (typeof target[name] !== 'function') throw missing(name);
  }
}

function internals(client: MqttClient): ClientInternals {
  return client as unknown as ClientInternals;
}

function missing(name: string): Error {
  return new Error(`this MQTT.js version has no ${name}; pin the mqtt version in package.json (5.16.0)`);
}
