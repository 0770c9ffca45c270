import { Duplex } from 'node:stream';
import { IClientOptions, MqttClient } from 'mqtt';
import { contractRecord, describeDestinationContract } from '@app/core/testing/destination.contract';
import { MqttClientFactory } from './mqtt.client-factory';
import { MqttDestination } from './mqtt.destination';
import { mqttDestinationSchema } from './mqtt.schema';
import { ScriptedBroker } from './testing/scripted-broker';

/** A socket to a port nothing listens on, as MQTT.js sees it. */
function refusedStream(): Duplex {
  const stream = new Duplex({ read: () => undefined, write: (_chunk, _encoding, callback) => callback() });
  setImmediate(() => stream.destroy(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1883'), { code: 'ECONNREFUSED' })));
  return stream;
}

/** The scripted broker while `up`; refused connections otherwise. */
function switchableFactory(broker: ScriptedBroker, state: { up: boolean }): MqttClientFactory {
  const scripted = broker.factory();
  return {
    createClient: (url: string, options: IClientOptions) => (state.up ? scripted.createClient(url, options) : new MqttClient(() => refusedStream(), options)),
  };
}

describeDestinationContract('mqtt (scripted broker)', {
  bringsUp: true,
  stalls: false,
  async create({ down }) {
    const broker = new ScriptedBroker();
    const state = { up: !down };
    const config = mqttDestinationSchema.parse({
      type: 'mqtt',
      broker: { url: 'mqtt://scripted', reconnectPeriodMs: 100 },
      topic: 'contract/out',
      retry: { initialMs: 20, maxMs: 100 },
    });
    return {
      destination: new MqttDestination('unit/mqtt[0]', config, switchableFactory(broker, state), []),
      delivered: async (payload) => broker.received.some((p) => p.cmd === 'publish' && p.topic === 'contract/out' && p.payload.toString() === payload),
      bringUp: async () => void (state.up = true),
    };
  },
});

describe('MqttDestination.describe', () => {
  const base = contractRecord('p');
  const record = { ...base, message: { ...base.message, qos: 2 as const, properties: { userProperties: { unit: 'C' } } } };
  const destination = (protocolVersion: 4 | 5) =>
    new MqttDestination(
      'unit/mqtt[0]',
      mqttDestinationSchema.parse({ type: 'mqtt', broker: { url: 'mqtt://nowhere', protocolVersion }, topic: 'out/{level.1}', qos: { qos2: 1 } }),
      {
        createClient: () => {
          throw new Error('describe must not connect');
        },
      },
      [],
    );

  it('gives topic, the QoS it would publish with, and the MQTT 5 user properties, without connecting', () => {
    expect(destination(5).describe(record)).toEqual({ summary: 'mqtt mqtt://nowhere topic out/in qos 1', address: 'out/in', headers: { unit: 'C' } });
  });

  it('MQTT 3.1.1 carries no user properties', () => {
    expect(destination(4).describe(record).headers).toEqual({});
  });
});
