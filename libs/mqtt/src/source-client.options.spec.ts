import { mqttSourceSchema } from './mqtt.schema';
import { sourceClientOptions, statusPayload } from './source-client.options';

describe('sourceClientOptions', () => {
  it('asks MQTT 5 for the receive maximum, packet size and session expiry, and leaves MQTT.js its own resubscribing off', () => {
    const config = mqttSourceSchema.parse({
      url: 'mqtt://broker:1883',
      protocolVersion: 5,
      clientId: 'edge-1',
      maxInFlight: 250,
      maxPacketBytes: 65536,
      session: { persistent: true, expirySeconds: 600 },
    });
    const options = sourceClientOptions(config, 'edge-1', undefined);
    expect(options).toMatchObject({ clientId: 'edge-1', clean: false, resubscribe: false, protocolVersion: 5 });
    expect(options.properties).toEqual({ receiveMaximum: 250, maximumPacketSize: 65536, sessionExpiryInterval: 600 });
    expect(options.will).toBeUndefined();
  });

  it('leaves a last will on the status topic marking the worker offline, retained by default; MQTT 3.1.1 gets no properties', () => {
    const config = mqttSourceSchema.parse({ url: 'mqtt://broker:1883', protocolVersion: 4, status: { topic: 'bridge/status/{clientId}' } });
    const options = sourceClientOptions(config, 'w-2', 'bridge/status/w-2');
    expect(options.properties).toBeUndefined();
    expect(options.clean).toBe(true);
    expect(options.will).toMatchObject({ topic: 'bridge/status/w-2', qos: 1, retain: true });
    expect(JSON.parse(String(options.will!.payload))).toMatchObject({ status: 'offline', clientId: 'w-2' });
    expect(JSON.parse(statusPayload('online', 'w-2')).status).toBe('online');
  });
});
