import { DecodeFailedError } from '@app/transform';
import { decodeConfluentFrame, encodeConfluentFrame } from './confluent-wire';

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');

// Vectors follow Confluent's "Wire format" documentation: magic byte 0, the schema id as 4 bytes
// big-endian, then for Protobuf the message indexes as zigzag varints (count, then indexes),
// with [0] written as the single byte 0; the e2e spec checks them against protobuf-java.
describe('Confluent wire format', () => {
  // Avro binary of {"name":"Alice","age":30} for record User{name:string, age:int}.
  const avroBody = hex('0a 41 6c 69 63 65 3c');

  it('frames an Avro body: magic 0, big-endian schema id, body', () => {
    expect(encodeConfluentFrame(1, avroBody)).toEqual(hex('00 00000001 0a416c6963653c'));
    expect(encodeConfluentFrame(0x12345678, avroBody).subarray(0, 5)).toEqual(hex('00 12345678'));
    expect(encodeConfluentFrame(0xffffffff, hex('')).toString('hex')).toBe('00ffffffff');
  });

  it('takes an Avro frame apart without copying the body', () => {
    const framed = hex('00 00000001 0a416c6963653c');
    const frame = decodeConfluentFrame(framed, false);
    expect(frame.schemaId).toBe(1);
    expect(frame.messageIndexes).toBeUndefined();
    expect(frame.body).toEqual(avroBody);
    expect(frame.body.buffer).toBe(framed.buffer);
  });

  it.each([
    [[0], '00'], // the first message: the single-0 shortcut
    [[1], '02 02'], // count 1, index 1
    [[1, 0], '04 02 00'], // the first nested message of the second message
    [[0, 2, 1], '06 00 04 02'],
    [[64], '02 8001'], // zigzag(64) = 128 takes two bytes
  ])('writes Protobuf message indexes %j as %s and reads them back', (indexes, bytes) => {
    const framed = encodeConfluentFrame(7, hex('08 96 01'), indexes);
    expect(framed).toEqual(hex(`00 00000007 ${bytes} 089601`));
    expect(decodeConfluentFrame(framed, true)).toEqual({ schemaId: 7, messageIndexes: indexes, body: hex('08 96 01') });
  });

  it('reads the long form of [0] that some writers use', () => {
    expect(decodeConfluentFrame(hex('00 00000007 02 00 0801'), true).messageIndexes).toEqual([0]);
  });

  it.each([
    ['', 'the header alone is 5'],
    ['00 000000', 'the header alone is 5'],
    ['01 00000001 0a', 'magic byte 1, expected 0'],
  ])('refuses %s: %s', (bytes, message) => {
    const error = catchError(() => decodeConfluentFrame(hex(bytes), false));
    expect(error).toBeInstanceOf(DecodeFailedError);
    expect((error as Error).message).toContain(message);
  });

  it('refuses Protobuf indexes that end early, are negative or are absurd', () => {
    expect((catchError(() => decodeConfluentFrame(hex('00 00000001'), true)) as Error).message).toContain('ends inside');
    expect((catchError(() => decodeConfluentFrame(hex('00 00000001 04 02'), true)) as Error).message).toContain('ends inside');
    expect((catchError(() => decodeConfluentFrame(hex('00 00000001 02 01'), true)) as Error).message).toContain('negative');
    expect((catchError(() => decodeConfluentFrame(hex('00 00000001 01'), true)) as Error).message).toContain('impossible');
    expect((catchError(() => decodeConfluentFrame(hex('00 00000001 ffffffffff01'), true)) as Error).message).toContain('longer than 5 bytes');
  });

  it('refuses ids and indexes that the format cannot carry', () => {
    expect(() => encodeConfluentFrame(-1, avroBody)).toThrow(RangeError);
    expect(() => encodeConfluentFrame(2 ** 32, avroBody)).toThrow(RangeError);
    expect(() => encodeConfluentFrame(1, avroBody, [])).toThrow(RangeError);
    expect(() => encodeConfluentFrame(1, avroBody, [-1])).toThrow(RangeError);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
