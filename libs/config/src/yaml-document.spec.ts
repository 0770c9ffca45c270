import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config.error';
import { YamlDocument } from './yaml-document';

const dir = mkdtempSync(join(tmpdir(), 'yaml-document-spec-'));
let n = 0;
function write(content: string | Buffer): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, content);
  return file;
}

/** The ConfigError YamlDocument.load throws for a file, as printed lines without the file name. */
function refusal(file: string): string[] {
  try {
    YamlDocument.load(file, {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n').map((line) => line.replace(`${file}:`, ''));
  }
  throw new Error('expected the file to be refused');
}

describe('YamlDocument.load', () => {
  it('reads UTF-8, BOM included', () => {
    const file = write(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('mqtt: { clientId: capteur-été }\n')]));
    expect(YamlDocument.load(file, {}).toJS()).toEqual({ mqtt: { clientId: 'capteur-été' } });
  });

  it('refuses invalid UTF-8 with the line, column and byte offset of the first bad byte, substituting nothing', () => {
    const file = write(Buffer.concat([Buffer.from('mqtt:\n  url: mqtt://127.0.0.1:1883\n  clientId: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(refusal(file)).toEqual([
      'invalid configuration (1 problem):',
      '  3:16: invalid UTF-8: byte 0xE9 at byte offset 50 (the configuration must be UTF-8 text)',
    ]);
  });

  it('gives one short error for a megabyte of random bytes', () => {
    const garbage = randomBytes(1 << 20);
    // Make sure the garbage is not UTF-8 by its second byte: a lone continuation byte.
    garbage[0] = 0x41;
    garbage[1] = 0x80;
    expect(refusal(write(garbage))).toEqual([
      'invalid configuration (1 problem):',
      '  1:2: invalid UTF-8: byte 0x80 at byte offset 1 (the configuration must be UTF-8 text)',
    ]);
  });

  it('caps what text that is not a configuration reports, and stays fast on a megabyte-sized map', () => {
    // 100 000 keys, 1 MB: the YAML library's own duplicate check would take minutes here.
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i % 50_000}: ${i}\n`).join('');
    const started = Date.now();
    const lines = refusal(write(keys));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lines[0]).toBe('invalid configuration (50000 problems):');
    expect(lines[1]).toBe('  50001:1: duplicate key "k0" (first at line 1)');
    expect(lines[20]).toBe('  50020:1: duplicate key "k19" (first at line 20)');
    expect(lines[21]).toBe('  ... and 49980 more');
    expect(lines).toHaveLength(22);
  });

  it('names a duplicate key and where it first is, in nested maps too, comparing typed values', () => {
    expect(refusal(write('a: 1\nb: 2\na: 3\nc: { x: 1, x: 2 }\n1: one\n"1": string\n'))).toEqual([
      'invalid configuration (2 problems):',
      '  3:1: duplicate key "a" (first at line 1)',
      '  4:12: duplicate key "x" (first at line 4)',
    ]);
  });

  it('shortens a parser message that quotes a huge token', () => {
    expect(refusal(write(`a: 1\n]${'x'.repeat(100_000)}\n`))).toEqual([
      'invalid configuration (2 problems):',
      '  2:1: Unexpected flow-seq-end token in YAML stream: "]"',
      // The message is cut at 200 characters.
      `  2:2: Unexpected scalar token in YAML stream: "${'x'.repeat(200 - 'Unexpected scalar token in YAML stream: "'.length)}…`,
    ]);
  });

  it('refuses a billion-laughs alias bomb at the line of the alias, before anything expands it', () => {
    const file = write(`mqtt: { url: "mqtt://127.0.0.1:1883" }
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
`);
    expect(refusal(file)).toEqual([
      'invalid configuration (1 problem):',
      '  7:8: aliases copy more than 100000 values once *e here is expanded; is this a YAML alias bomb?',
    ]);
  });

  it('refuses deep nesting at the first node too deep, instead of "Maximum call stack size exceeded"', () => {
    expect(refusal(write('mqtt: ' + '['.repeat(20_000) + ']'.repeat(20_000)))).toEqual([
      'invalid configuration (1 problem):',
      '  1:70: values are nested deeper than 64 levels',
    ]);
  });

  it('refuses an alias whose anchor is missing, which would fail when converted', () => {
    expect(refusal(write('mqtt: *broker\n'))).toEqual(['invalid configuration (1 problem):', '  1:7: alias *broker has no anchor &broker before it']);
  });

  it("converts reused anchors that the YAML library's own alias count would refuse", () => {
    // An anchor holding 2 aliases, used 60 times: 120 alias resolutions, over the library's default of 100.
    const text = `x: &x 1\npair: &p [*x, *x]\nuses: [${Array.from({ length: 60 }, () => '*p').join(', ')}]\n`;
    const js = YamlDocument.load(write(text), {}).toJS() as { uses: unknown[] };
    expect(js.uses).toHaveLength(60);
    expect(js.uses[59]).toEqual([1, 1]);
  });
});
