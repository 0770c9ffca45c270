import { Writable } from 'node:stream';
import { JsonLogger } from './json.logger';

function capture(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, stream };
}

describe('JsonLogger', () => {
  it('writes one JSON object per line with the Nest context and the fields of an object message', () => {
    const { lines, stream } = capture();
    const logger = new JsonLogger('info', stream);
    logger.warn({ msg: 'dead-lettered', rule: 'r', topic: 'a/b', reason: 'key-revoked' }, 'BridgePipeline');
    logger.log('plain text', 'Worker');
    logger.debug('hidden below info', 'Worker');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'dead-lettered', rule: 'r', topic: 'a/b', reason: 'key-revoked', context: 'BridgePipeline' });
    expect(lines[1]).toMatchObject({ level: 30, msg: 'plain text', context: 'Worker' });
    expect(typeof lines[0].time).toBe('string');
  });
});
