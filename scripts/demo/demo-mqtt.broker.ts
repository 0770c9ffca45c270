import { createServer, Server } from 'node:net';
import { freePort } from '../../test/harness/free-port';
import { MosquittoBroker } from '../../test/harness/mosquitto.broker';
import { which } from '../../test/harness/proc';

export interface DemoMqttBroker {
  url: string;
  protocol: 4 | 5;
  stop(): Promise<void>;
}

/** Mosquitto when it is installed, else an embedded Aedes broker (`force` = 'aedes' picks Aedes). */
export async function startDemoMqttBroker(force?: string): Promise<DemoMqttBroker> {
  if (force !== 'aedes' && which('mosquitto', ['/usr/sbin', '/usr/local/sbin'])) {
    const broker = await MosquittoBroker.start();
    return { url: broker.url, protocol: 5, stop: () => broker.stop() };
  }
  // Aedes speaks MQTT 3.1.1 only.
  const { createBroker } = await import('aedes');
  const aedes = createBroker();
  const port = await freePort();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    protocol: 4,
    stop: () => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))),
  };
}
