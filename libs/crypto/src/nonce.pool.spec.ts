import { NoncePool } from './nonce.pool';

describe('NoncePool', () => {
  it('hands out nonces of the asked length, each once, across refills, unchanged by later refills', () => {
    const pool = new NoncePool(24, 4);
    const nonces = Array.from({ length: 50 }, () => pool.next());
    const first = Buffer.from(nonces[0]).toString('hex');
    expect(nonces.every((n) => n.length === 24)).toBe(true);
    expect(new Set(nonces.map((n) => Buffer.from(n).toString('hex'))).size).toBe(50);
    for (let i = 0; i < 20; i++) pool.next();
    expect(Buffer.from(nonces[0]).toString('hex')).toBe(first);
  });

  it('writes nonces in place, each once', () => {
    const pool = new NoncePool(24, 3);
    const target = new Uint8Array(2 + 24 * 10);
    for (let i = 0; i < 10; i++) pool.writeTo(target, 2 + 24 * i);
    const nonces = Array.from({ length: 10 }, (_, i) => Buffer.from(target.subarray(2 + 24 * i, 26 + 24 * i)).toString('hex'));
    expect(new Set(nonces).size).toBe(10);
    expect([target[0], target[1]]).toEqual([0, 0]);
  });
});
