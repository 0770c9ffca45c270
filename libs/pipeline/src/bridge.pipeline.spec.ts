import { BridgeMessage, Destination, DestinationRejectedError, OutboundRecord, ShutdownError } from '@app/core';
import { EnvelopeSealer, Keyring, SodiumProvider } from '@app/crypto';
import { KafkaWriter } from '@app/kafka';
import { parseTopicFilter } from '@app/topic';
import { compileProcess, processSchema } from '@app/transform';
import { BridgePipeline, RuntimeRule } from './bridge.pipeline';
import { BridgeStats } from './bridge-stats';
import { DeadLetterWriter } from './dead-letter.writer';
import { PayloadTransformer } from './payload.transformer';
import { SubscriptionPlan } from '@app/bridge-config';

/** A destination that records writes and fails the topics it is told to. */
class FakeDestination implements Destination {
  readonly written: Array<{ topic: string; payload: string; headers: Readonly<Record<string, unknown>> }> = [];
  failWith?: Error;
  constructor(readonly name: string) {}
  async connect(): Promise<void> {}
  async write(record: OutboundRecord): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.written.push({ topic: record.message.topic, payload: record.payload('addr').toString(), headers: record.headers });
  }
  describe(record: OutboundRecord) {
    return { summary: `fake ${record.message.topic}`, address: 'addr', headers: {} };
  }
  async close(): Promise<void> {}
}

describe('BridgePipeline', () => {
  let transformer: PayloadTransformer;
  const letters: Array<{ topic: string; reason: string }> = [];
  const fakeKafka = {
    write: async (record: { topic: string; headers: Record<string, unknown> }) => {
      letters.push({ topic: record.topic, reason: String(record.headers['bridge.dlq.reason']) });
    },
  } as unknown as KafkaWriter;

  beforeAll(async () => {
    const sodium = await new SodiumProvider().ready();
    transformer = new PayloadTransformer(new EnvelopeSealer(sodium), { current: () => Keyring.from([]) });
  });
  beforeEach(() => (letters.length = 0));

  function pipeline(rules: Array<RuntimeRule & { filter: string }>): { pipeline: BridgePipeline; stats: BridgeStats } {
    const plan = new SubscriptionPlan(rules.map((r) => ({ filters: [parseTopicFilter(r.filter)], qos: 1 as const, skipRetained: false })));
    const stats = new BridgeStats();
    const deadLetters = new DeadLetterWriter(fakeKafka, async () => undefined, { initialMs: 1, maxMs: 1, maxAttempts: 1, maxElapsedMs: 0 });
    return { pipeline: new BridgePipeline(plan, rules, deadLetters, transformer, stats, 'worker-1'), stats };
  }
  const rule = (name: string, filter: string, destinations: Destination[], process?: unknown): RuntimeRule & { filter: string } => ({
    name,
    filter,
    destinations,
    deadLetter: { type: 'kafka', topic: `${name}.dlq` },
    transform: { mode: 'passthrough', requireTopicBinding: true, bindDestinationTopic: true },
    process: process === undefined ? undefined : compileProcess(processSchema.parse(process), () => ({})).program,
  });
  const message = (topic: string, payload: string): BridgeMessage => ({
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: false,
    properties: {},
    receivedAt: performance.now(),
  });
  /** Hands a message to the pipeline and resolves when it is acknowledged. */
  const handled = (p: BridgePipeline, m: BridgeMessage) => new Promise<void>((resolve) => p.handle({ message: m, ack: resolve }));

  it('writes to every destination of every rule that takes the message, then acknowledges', async () => {
    const a = new FakeDestination('a');
    const b = new FakeDestination('b');
    const c = new FakeDestination('c');
    const { pipeline: p, stats } = pipeline([rule('one', 's/#', [a, b]), rule('two', 's/+/x', [c])]);
    await handled(p, message('s/1/x', 'hello'));
    expect([a.written, b.written, c.written].map((w) => w.map((x) => x.payload))).toEqual([['hello'], ['hello'], ['hello']]);
    expect(stats.snapshot()).toMatchObject({ one: { received: 1, delivered: 2 }, two: { received: 1, delivered: 1 } });
    expect(p.pending).toBe(0);
  });

  it('acknowledges a message no rule takes, counting it as unrouted', async () => {
    const { pipeline: p, stats } = pipeline([rule('one', 's/#', [new FakeDestination('a')])]);
    await handled(p, message('other/topic', 'x'));
    expect(stats.unrouted).toBe(1);
  });

  it('dead-letters what one destination refuses, still writes the others, and acknowledges after the dead letter', async () => {
    const ok = new FakeDestination('ok');
    const refusing = new FakeDestination('refusing');
    refusing.failWith = new DestinationRejectedError('too large', 'record-too-large');
    const { pipeline: p, stats } = pipeline([rule('one', 's/#', [ok, refusing])]);
    await handled(p, message('s/1', 'x'));
    expect(ok.written).toHaveLength(1);
    expect(letters).toEqual([{ topic: 'one.dlq', reason: 'record-too-large' }]);
    expect(stats.snapshot().one).toMatchObject({ delivered: 1, deadLettered: 1, reasons: { 'record-too-large': 1 } });
  });

  it('leaves a message unacknowledged when a destination stops for shutdown', async () => {
    const stopping = new FakeDestination('stopping');
    stopping.failWith = new ShutdownError('closing');
    const { pipeline: p } = pipeline([rule('one', 's/#', [stopping])]);
    let acked = false;
    p.handle({ message: message('s/1', 'x'), ack: () => (acked = true) });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(p.pending).toBe(0);
    expect(acked).toBe(false);
    expect(letters).toEqual([]);
  });

  it('runs the process section: filtered messages are acknowledged unwritten, failures dead-lettered, routes read the document', async () => {
    const out = new FakeDestination('out');
    const { pipeline: p, stats } = pipeline([rule('proc', 's/#', [out], { steps: [{ filter: 'payload.t > 0.0' }, { enrich: { seen: 'true' } }] })]);
    await handled(p, message('s/1', '{"t":5}'));
    await handled(p, message('s/2', '{"t":-5}'));
    await handled(p, message('s/3', 'nope'));
    expect(out.written.map((w) => JSON.parse(w.payload))).toEqual([{ t: 5, seen: true }]);
    expect(letters).toEqual([{ topic: 'proc.dlq', reason: 'decode-failed' }]);
    expect(stats.snapshot().proc).toMatchObject({ received: 3, delivered: 1, filtered: 1, deadLettered: 1 });
  });

  it('says in a dry run where a message would go, or why it would not', async () => {
    const out = new FakeDestination('out');
    const { pipeline: p } = pipeline([rule('proc', 's/#', [out], { steps: [{ filter: 'payload.t > 0.0' }] })]);
    expect(await p.replay('proc', message('s/1', '{"t":1}'), true)).toEqual({ delivered: ['fake s/1'], failed: [] });
    expect(await p.replay('proc', message('s/1', '{"t":-1}'), true)).toMatchObject({ delivered: [], failed: [], filtered: 'steps[0].filter' });
    expect(await p.replay('proc', message('s/1', '{'), true)).toEqual({ delivered: [], failed: ['decode-failed'] });
    expect(await p.replay('proc', message('elsewhere', '{}'), true)).toBeUndefined();
    expect(out.written).toEqual([]);
  });
});
