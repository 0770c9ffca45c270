import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSConnectionError } from 'kafkajs';
import { toBridgeError } from './kafka.errors';

describe('toBridgeError', () => {
  it('classifies a too-large record as permanent, even wrapped by exhausted retries', () => {
    const protocol = new KafkaJSProtocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'too large' } as never);
    expect(toBridgeError(protocol)).toMatchObject({ retriable: false, code: 'record-too-large' });
    const wrapped = new KafkaJSNumberOfRetriesExceeded(protocol, { retryCount: 2, retryTime: 100 });
    expect(toBridgeError(wrapped)).toMatchObject({ retriable: false, code: 'record-too-large' });
  });

  it('classifies connection loss and leader changes as retriable', () => {
    expect(toBridgeError(new KafkaJSConnectionError('Connection error: ECONNREFUSED'))).toMatchObject({
      retriable: true,
      code: 'destination-unavailable',
    });
    const leader = new KafkaJSProtocolError({ type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'x' } as never);
    expect(toBridgeError(leader)).toMatchObject({ retriable: true });
  });
});
