import { NONCE_LENGTH, writeHeaderFields } from './envelope';
import { KEY_BYTES } from './key-entry.rules';
import { envelopeNonces } from './nonce.pool';
import type { Sodium } from './sodium.provider';
import type { BoundTopic } from './topic-tag.cache';

/**
 * The Emscripten module under libsodium-wrappers (its `libsodium` property): libsodium's own C
 * functions over the WebAssembly heap. 64-bit lengths are passed as two 32-bit halves, as the
 * wrappers themselves do.
 */
interface SodiumModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(address: number): void;
  _crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: number,
    clenP: number,
    m: number,
    mlenLow: number,
    mlenHigh: number,
    ad: number,
    adlenLow: number,
    adlenHigh: number,
    nsec: number,
    npub: number,
    k: number,
  ): number;
  _crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: number,
    mlenP: number,
    nsec: number,
    c: number,
    clenLow: number,
    clenHigh: number,
    ad: number,
    adlenLow: number,
    adlenHigh: number,
    npub: number,
    k: number,
  ): number;
}

const TAG_BYTES = 16;
/** The arena keeps the size of the largest message up to this; larger ones get an allocation of their own. */
const ARENA_MAX_BYTES = 64 * 1024 + 1024;
const ARENA_MIN_BYTES = 1024;

/**
 * Envelopes are copied out of the heap into views of a shared 64 KB block rather than each into
 * an ArrayBuffer of its own: allocating a backing store cost ~0.3 µs per envelope, a view ~0.05.
 * Only envelopes (public bytes) share blocks; every plaintext gets an ArrayBuffer of its own, so
 * `plaintext.buffer` can never reach another message's plaintext. A block stays alive while any
 * envelope in it does (kafkajs holds a batch until it is acknowledged): a few blocks at most.
 */
class EnvelopeSlab {
  private static readonly BLOCK = 64 * 1024;
  /** Larger envelopes get a buffer of their own, so a block is never mostly wasted. */
  private static readonly LARGEST = 4 * 1024;
  private block = new ArrayBuffer(0);
  private offset = 0;

  copyOut(heap: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    if (length > EnvelopeSlab.LARGEST) return heap.slice(start, end);
    if (this.offset + length > this.block.byteLength) {
      this.block = new ArrayBuffer(EnvelopeSlab.BLOCK);
      this.offset = 0;
    }
    const view = new Uint8Array(this.block, this.offset, length);
    this.offset += (length + 7) & ~7;
    view.set(heap.subarray(start, end));
    return view;
  }
}

/**
 * XChaCha20-Poly1305 envelopes built and opened in place in the WebAssembly heap.
 *
 * libsodium-wrappers copies every argument into a fresh heap allocation (key, nonce, associated
 * data, message), allocates the output, copies it out into a new array and frees the six blocks
 * without clearing them; around it the envelope code concatenated the header and the topic for
 * the associated data and the header and ciphertext for the envelope. Here one reused heap region
 * (the arena) holds the operation: the header is written into it, the plaintext (or envelope) is
 * copied in once, libsodium encrypts or decrypts in place, and one exactly-sized copy comes out.
 *
 * Arena layout, seal: key (32) | header | ciphertext+tag (the plaintext, encrypted in place) | header | topic
 *                            (the last two are the associated data; the output is header..tag)
 *             open:  key (32) | header | topic (associated data) | body (decrypted in place)
 *
 * Wiping: the key copy and, on open, the plaintext are zeroed in the heap before the call returns
 * (the wrappers left both in freed heap memory). On seal the plaintext is overwritten by its
 * ciphertext; if encryption fails it is zeroed. Callers wipe the JavaScript copies as before.
 */
export class WasmEnvelopeAead {
  private arena = 0;
  private capacity = 0;
  private readonly envelopes = new EnvelopeSlab();

  private constructor(private readonly wasm: SodiumModule) {}

  /** The in-heap implementation for this libsodium, or undefined when it lacks the raw module or fails its self-test. */
  static for(sodium: Sodium): WasmEnvelopeAead | undefined {
    const wasm = (sodium as unknown as { libsodium?: Partial<SodiumModule> }).libsodium;
    if (
      !wasm ||
      !(wasm.HEAPU8 instanceof Uint8Array) ||
      typeof wasm._malloc !== 'function' ||
      typeof wasm._free !== 'function' ||
      typeof wasm._crypto_aead_xchacha20poly1305_ietf_encrypt !== 'function' ||
      typeof wasm._crypto_aead_xchacha20poly1305_ietf_decrypt !== 'function'
    ) {
      return undefined;
    }
    const aead = new WasmEnvelopeAead(wasm as SodiumModule);
    return aead.agreesWith(sodium) ? aead : undefined;
  }

  /**
   * Envelope bytes: header (nonce from the pool unless given) || ciphertext || tag. A view into a
   * block shared with other envelopes (EnvelopeSlab): its `buffer` is larger than it.
   */
  seal(key: Uint8Array, plaintext: Uint8Array, keyName: string, keyVersion: number, topic: BoundTopic | undefined, nonce?: Uint8Array): Uint8Array {
    const messageLength = plaintext.length;
    const topicLength = topic ? topic.bytes.length : 0;
    // The header is at most 4 + 64 + 4 + 8 + 24 = 104 bytes; its exact length is known once written.
    const base = this.reserve(KEY_BYTES + 2 * 104 + messageLength + TAG_BYTES + topicLength);
    const heap = this.wasm.HEAPU8;
    const keyAt = base;
    const out = base + KEY_BYTES;
    let sealed = false;
    let ciphertext = 0;
    try {
      const nonceAt = writeHeaderFields(heap, out, 'xchacha20poly1305', keyName, keyVersion, topic?.tag);
      if (nonce) heap.set(nonce, nonceAt);
      else envelopeNonces.writeTo(heap, nonceAt);
      const headerLength = nonceAt + NONCE_LENGTH - out;
      ciphertext = out + headerLength;
      const ad = ciphertext + messageLength + TAG_BYTES;
      heap.set(key, keyAt);
      heap.set(plaintext, ciphertext);
      heap.copyWithin(ad, out, ciphertext);
      if (topic) heap.set(topic.bytes, ad + headerLength);
      const status = this.wasm._crypto_aead_xchacha20poly1305_ietf_encrypt(
        ciphertext,
        0,
        ciphertext,
        messageLength,
        0,
        ad,
        headerLength + topicLength,
        0,
        0,
        nonceAt,
        keyAt,
      );
      if (status !== 0) throw new Error('crypto_aead_xchacha20poly1305_ietf_encrypt failed');
      sealed = true;
      return this.envelopes.copyOut(heap, out, ciphertext + messageLength + TAG_BYTES);
    } finally {
      heap.fill(0, keyAt, keyAt + KEY_BYTES);
      if (!sealed && ciphertext !== 0) heap.fill(0, ciphertext, ciphertext + messageLength);
      this.release(base);
    }
  }

  /**
   * The plaintext of `body` under `headerBytes` (whose last 24 bytes are the nonce) and the
   * topic, or undefined when authentication fails.
   */
  open(key: Uint8Array, headerBytes: Uint8Array, body: Uint8Array, topicBytes: Uint8Array | undefined): Uint8Array | undefined {
    const headerLength = headerBytes.length;
    const topicLength = topicBytes ? topicBytes.length : 0;
    const bodyLength = body.length;
    if (bodyLength < TAG_BYTES || headerLength < NONCE_LENGTH) return undefined;
    const base = this.reserve(KEY_BYTES + headerLength + topicLength + bodyLength);
    const heap = this.wasm.HEAPU8;
    const keyAt = base;
    const ad = base + KEY_BYTES;
    const ciphertext = ad + headerLength + topicLength;
    try {
      heap.set(key, keyAt);
      heap.set(headerBytes, ad);
      if (topicBytes) heap.set(topicBytes, ad + headerLength);
      heap.set(body, ciphertext);
      const status = this.wasm._crypto_aead_xchacha20poly1305_ietf_decrypt(
        ciphertext,
        0,
        0,
        ciphertext,
        bodyLength,
        0,
        ad,
        headerLength + topicLength,
        0,
        ad + headerLength - NONCE_LENGTH,
        keyAt,
      );
      // An ArrayBuffer of its own (see EnvelopeSlab), as libsodium-wrappers returned.
      return status === 0 ? heap.slice(ciphertext, ciphertext + bodyLength - TAG_BYTES) : undefined;
    } finally {
      heap.fill(0, keyAt, keyAt + KEY_BYTES);
      heap.fill(0, ciphertext, ciphertext + bodyLength);
      this.release(base);
    }
  }

  private reserve(size: number): number {
    if (size <= this.capacity) return this.arena;
    if (size > ARENA_MAX_BYTES) return this.malloc(size);
    // The old arena holds nothing secret: every operation zeroes its key and plaintext before returning.
    if (this.arena !== 0) this.wasm._free(this.arena);
    this.arena = 0;
    this.capacity = 0;
    const capacity = Math.min(ARENA_MAX_BYTES, Math.max(ARENA_MIN_BYTES, size * 2));
    this.arena = this.malloc(capacity);
    this.capacity = capacity;
    return this.arena;
  }

  private release(address: number): void {
    if (address !== this.arena) this.wasm._free(address);
  }

  private malloc(size: number): number {
    const address = this.wasm._malloc(size);
    if (address === 0) throw new Error(`libsodium could not allocate ${size} bytes`);
    return address;
  }

  /**
   * The raw functions are libsodium.js internals, not its API: check once, against the wrappers,
   * that they take the arguments this class passes, and fall back to the wrappers otherwise.
   */
  private agreesWith(sodium: Sodium): boolean {
    try {
      const key = Uint8Array.from({ length: KEY_BYTES }, (_, i) => i + 1);
      const nonce = Uint8Array.from({ length: NONCE_LENGTH }, (_, i) => 0xa0 + i);
      const plaintext = Uint8Array.from({ length: 70 }, (_, i) => i * 3);
      const topic = { bytes: Uint8Array.of(0x61, 0x2f, 0x62), tag: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) };
      const envelope = this.seal(key, plaintext, 'self-test', 7, topic, nonce);
      const headerLength = 4 + 9 + 4 + 8 + NONCE_LENGTH;
      const header = envelope.subarray(0, headerLength);
      const ad = new Uint8Array([...header, ...topic.bytes]);
      const expected = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
      const opened = this.open(key, header, envelope.subarray(headerLength), topic.bytes);
      return (
        Buffer.from(header.subarray(headerLength - NONCE_LENGTH)).equals(nonce) &&
        Buffer.from(envelope.subarray(headerLength)).equals(expected) &&
        opened !== undefined &&
        Buffer.from(opened).equals(plaintext) &&
        this.open(key, header, envelope.subarray(headerLength), undefined) === undefined
      );
    } catch {
      return false;
    }
  }
}
