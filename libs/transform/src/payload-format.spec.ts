import { decodePayload, encodePayload } from './payload-format';
import { DecodeFailedError, TransformFailedError } from './transform.errors';

const bytes = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');

describe('payload formats', () => {
  it('decodes JSON and says where it broke without quoting the payload', () => {
    expect(decodePayload('json', Buffer.from('{"t":21.5,"id":"a"}'))).toEqual({ t: 21.5, id: 'a' });
    const error = catchError(() => decodePayload('json', Buffer.from('{"pin":"1234", oops}')));
    expect(error).toBeInstanceOf(DecodeFailedError);
    expect((error as Error).message).toBe('payload is not JSON (syntax error at byte 15)');
  });

  it('refuses bytes that are not UTF-8 for JSON and text', () => {
    expect((catchError(() => decodePayload('json', bytes('7b ff 7d'))) as Error).message).toBe('payload is not JSON: it is not valid UTF-8');
    expect((catchError(() => decodePayload('text', bytes('c3 28'))) as Error).message).toBe('payload is not text: it is not valid UTF-8');
    expect(decodePayload('text', Buffer.from('héllo'))).toBe('héllo');
  });

  it('decodes RFC 8949 appendix A examples into the document model', () => {
    expect(decodePayload('cbor', bytes('a2 61 61 01 61 62 82 02 03'))).toEqual({ a: 1, b: [2, 3] });
    expect(decodePayload('cbor', bytes('f9 3c 00'))).toBe(1.0); // half-precision float
    expect(decodePayload('cbor', bytes('c0 74 32 30 31 33 2d 30 33 2d 32 31 54 32 30 3a 30 34 3a 30 30 5a'))).toBe('2013-03-21T20:04:00.000Z');
    expect(decodePayload('cbor', bytes('44 01 02 03 04'))).toEqual(Buffer.from([1, 2, 3, 4]));
    // SenML's integer labels become string keys.
    expect(decodePayload('cbor', bytes('a2 21 63 61 62 63 02 18 2a'))).toEqual({ '-2': 'abc', '2': 42 });
  });

  it('refuses CBOR that is truncated, NaN, or an integer JSON cannot hold exactly', () => {
    expect(catchError(() => decodePayload('cbor', bytes('82 01')))).toBeInstanceOf(DecodeFailedError);
    expect((catchError(() => decodePayload('cbor', bytes('a1 61 74 f9 7e 00'))) as Error).message).toBe(
      'payload /t is NaN or infinite, which JSON cannot hold',
    );
    expect((catchError(() => decodePayload('cbor', bytes('1b 00 20 00 00 00 00 00 01'))) as Error).message).toContain('beyond 2^53');
  });

  it('round-trips a document through CBOR and encodes bytes as base64 in JSON', () => {
    const document = { id: 'th-1', t: 21.5, n: 3, ok: true, none: null, raw: Buffer.from([1, 2]) };
    expect(decodePayload('cbor', encodePayload('cbor', document))).toEqual(document);
    expect(encodePayload('json', document).toString()).toBe('{"id":"th-1","t":21.5,"n":3,"ok":true,"none":null,"raw":"AQI="}');
  });

  it('refuses a document the output format cannot hold', () => {
    expect((catchError(() => encodePayload('text', { a: 1 })) as Error).message).toBe('output text needs a string, the steps produced an object');
    expect(catchError(() => encodePayload('json', { x: Number.NaN }))).toBeInstanceOf(TransformFailedError);
    expect(encodePayload('raw', new Uint8Array([7]))).toEqual(Buffer.from([7]));
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
