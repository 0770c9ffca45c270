export * from './ack-sequencer';
export * from './mqtt.client-factory';
export * from './mqtt.schema';
export * from './mqtt.source';
export * from './mqtt.destination';
export * from './broker-endpoint';
export * from './mqtt.registration';
