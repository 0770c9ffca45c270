import { RD, RdkafkaError } from './rdkafka.native';
import { RdkafkaClientFactory } from './rdkafka.client-factory';

/** An error event as the binding hands it over: librdkafka's text after "Local: ", lower-cased, code -1. */
const eventError = (message: string) => Object.assign(new Error(message), { code: -1, origin: 'local' }) as RdkafkaError;

describe('RdkafkaClientFactory (the installed native module)', () => {
  const factory = new RdkafkaClientFactory();

  it('loads: .ci/run builds it, and the e2e specs run the Kafka destination on it', () => {
    expect(factory.unavailable).toBeUndefined();
  });

  it("gives an error event back the code the binding dropped, by librdkafka's own text for it", () => {
    expect(factory.eventCode(eventError('all broker connections are down'))).toBe(RD.ALL_BROKERS_DOWN);
    expect(factory.eventCode(eventError('broker transport failure'))).toBe(RD.TRANSPORT);
    expect(factory.eventCode(eventError('something else'))).toBe(-1);
    expect(factory.eventCode(Object.assign(eventError('broker received an out of order sequence number'), { origin: 'broker' }))).toBe(
      RD.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    expect(factory.eventCode(Object.assign(eventError('cluster authorization failed'), { origin: 'broker' }))).toBe(RD.CLUSTER_AUTHORIZATION_FAILED);
    // Where the binding's instanceof Error fails (a Jest sandbox): the whole text, no code.
    expect(factory.eventCode(Object.assign(new Error('Local: All broker connections are down'), { code: undefined }) as unknown as RdkafkaError)).toBe(
      RD.ALL_BROKERS_DOWN,
    );
    expect(factory.eventCode(Object.assign(eventError('broker: producer attempted an operation with an old epoch'), { origin: 'fatal error' }))).toBe(RD.FATAL);
    expect(factory.eventCode(Object.assign(new Error('x'), { code: RD.MSG_TIMED_OUT }))).toBe(RD.MSG_TIMED_OUT);
  });
});
