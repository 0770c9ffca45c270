import { randomFillSync } from 'node:crypto';

/**
 * Random nonces drawn from a buffer filled by Node's CSPRNG a thousand at a time: one
 * randomFillSync per message cost about 1.6 µs, most of it the call, against well under 0.1 µs
 * for a copy out of the pool. Each slice is handed out once and copied, so a nonce never changes
 * after the pool is refilled. Nonces are public (they travel in every envelope): holding the next
 * ones in memory reveals nothing about keys or plaintexts.
 */
export class NoncePool {
  private readonly pool: Buffer;
  private offset: number;

  constructor(
    private readonly length: number,
    count = 1024,
  ) {
    this.pool = Buffer.allocUnsafeSlow(length * count);
    this.offset = this.pool.length;
  }

  next(): Uint8Array {
    if (this.offset + this.length > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const nonce = new Uint8Array(this.length);
    this.pool.copy(nonce, 0, this.offset, this.offset + this.length);
    this.offset += this.length;
    return nonce;
  }
}
