/**
 * Child process of the benchmark for limit A: a bare MQTT.js subscriber (MQTT 5, clean session)
 * that only counts what it receives – MQTT.js acknowledges QoS 1 at once, no bridge work.
 *
 * argv: <url> <filter> <qos> <target count>
 * IPC, child -> parent: { type: 'ready', pid } | { type: 'done', count } (once `target` arrived) |
 *   { type: 'count', count } (reply to { type: 'count' }) | { type: 'error', message }
 * parent -> child: { type: 'count' } | { type: 'stop' }
 */
import { connectAsync } from 'mqtt';

function send(message: Record<string, unknown>): void {
  if (process.connected) process.send?.(message);
}

async function main(): Promise<void> {
  const [url, filter, qosText, targetText] = process.argv.slice(2);
  const qos = Number(qosText) as 0 | 1;
  const target = Number(targetText);
  if (!url || !filter || !(qos === 0 || qos === 1) || !(target > 0)) {
    throw new Error('usage: bare-subscriber-process.ts <url> <filter> <qos> <target>');
  }
  const client = await connectAsync(url, {
    protocolVersion: 5,
    clean: true,
    clientId: `bench-bare-sub-${process.pid}`,
    reconnectPeriod: 0,
    // Same receive maximum as the bridge advertises (mqtt.maxInFlight 1000).
    properties: { receiveMaximum: 1000 },
  });
  let count = 0;
  client.on('message', () => {
    if (++count === target) send({ type: 'done', count });
  });
  await client.subscribeAsync(filter, { qos });
  process.on('message', (raw: unknown) => {
    const m = raw as { type: string };
    if (m.type === 'count') send({ type: 'count', count });
    if (m.type === 'stop') {
      void client.endAsync(false).finally(() => {
        send({ type: 'stopped' });
        setTimeout(() => process.exit(0), 20);
      });
    }
  });
  process.on('disconnect', () => process.exit(3));
  send({ type: 'ready', pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  setTimeout(() => process.exit(1), 50);
});
