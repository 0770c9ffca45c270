import { SodiumProvider } from '@app/crypto';
import { MasterKey } from '@app/keystore';
import { CONTROL_EVENT_WINDOW_MS, ControlEventVerifier, sealControlEvent } from './control-event';

describe('sealed control events', () => {
  let key: MasterKey;
  let other: MasterKey;

  beforeAll(async () => {
    const sodium = await new SodiumProvider().ready();
    key = MasterKey.fromBytes(sodium, new Uint8Array(32).fill(1));
    other = MasterKey.fromBytes(sodium, new Uint8Array(32).fill(2));
  });

  it('opens an event sealed with the same key, once', () => {
    const verifier = new ControlEventVerifier(key);
    const event = sealControlEvent('bridge.keys.changed', { key: 'devices', action: 'rotate' }, key);
    expect(verifier.open('bridge.keys.changed', event)).toEqual({ body: { key: 'devices', action: 'rotate' } });
    expect(verifier.open('bridge.keys.changed', event)).toEqual({ refused: 'already received (a replay)' });
  });

  it('refuses unsigned, altered, renamed, foreign and stale events', () => {
    const verifier = new ControlEventVerifier(key);
    const now = Date.now();
    const event = sealControlEvent('bridge.config.reload', { at: 'x' }, key, now);
    expect(verifier.open('bridge.config.reload', { at: 'x' })).toEqual({ refused: 'not a sealed control event (unsigned?)' });
    expect(verifier.open('bridge.config.reload', { ...event, body: { at: 'y' } })).toEqual({
      refused: 'its MAC does not verify (signed with another key, or altered)',
    });
    expect(verifier.open('bridge.keys.changed', event)).toEqual({ refused: 'its MAC does not verify (signed with another key, or altered)' });
    expect(verifier.open('bridge.config.reload', sealControlEvent('bridge.config.reload', {}, other, now))).toMatchObject({
      refused: expect.stringContaining('MAC'),
    });
    const old = sealControlEvent('bridge.config.reload', {}, key, now - CONTROL_EVENT_WINDOW_MS - 1_000);
    expect(verifier.open('bridge.config.reload', old, now)).toMatchObject({ refused: expect.stringContaining('outside 60 s') });
  });

  it('forgets nonces past the window, and bounds how many it keeps', () => {
    const verifier = new ControlEventVerifier(key, 2);
    const now = Date.now();
    const first = sealControlEvent('e', {}, key, now);
    expect(verifier.open('e', first, now)).toEqual({ body: {} });
    expect(verifier.open('e', sealControlEvent('e', {}, key, now), now)).toEqual({ body: {} });
    expect(verifier.open('e', sealControlEvent('e', {}, key, now), now)).toMatchObject({ refused: expect.stringContaining('more than 2 events') });
    const later = now + CONTROL_EVENT_WINDOW_MS + 1_000;
    expect(verifier.open('e', sealControlEvent('e', {}, key, later), later)).toEqual({ body: {} });
  });
});
