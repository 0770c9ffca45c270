import { parseTopicFilter } from '@app/topic';
import { connectionClientId, connectionOf, MAIN_CONNECTION, onConnection } from './isolation';

const rule = (isolation: 'auto' | 'own' | 'none', ...types: string[]) => ({ name: 'r1', isolation, destinations: types.map((type) => ({ type })) });

describe('isolation', () => {
  it('auto: a rule with a destination other than Kafka gets a connection of its own, Kafka-only rules share the main one', () => {
    expect(connectionOf(rule('auto', 'kafka', 'kafka'))).toBe(MAIN_CONNECTION);
    expect(connectionOf(rule('auto', 'kafka', 'amqp'))).toBe('r1');
    expect(connectionOf(rule('auto', 'mqtt'))).toBe('r1');
  });

  it('own and none decide whatever the destinations', () => {
    expect(connectionOf(rule('own', 'kafka'))).toBe('r1');
    expect(connectionOf(rule('none', 'nats'))).toBe(MAIN_CONNECTION);
  });

  it('gives each connection its own client id and shared-subscription group', () => {
    expect(connectionClientId('bridge-1', MAIN_CONNECTION)).toBe('bridge-1');
    expect(connectionClientId('bridge-1', 'to-cloud')).toBe('bridge-1.to-cloud');
    const shared = { name: 'to-cloud', filters: [parseTopicFilter('s/#')], captures: [], shareGroup: 'bridges', qos: 1 as const, skipRetained: false };
    expect(onConnection(shared, MAIN_CONNECTION).shareGroup).toBe('bridges');
    expect(onConnection(shared, 'to-cloud').shareGroup).toBe('bridges.to-cloud');
    expect(onConnection({ ...shared, shareGroup: undefined }, 'to-cloud').shareGroup).toBeUndefined();
  });
});
